"""Accounts API: POST /auth/register, /auth/login, /auth/refresh, /auth/new-password; GET /me;
POST /admin/users/{userId}/groups."""

from __future__ import annotations

from functools import cache
from http import HTTPStatus
from typing import Any

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from coursepay.accounts.identity import CognitoIdentity
from coursepay.accounts.models import GroupRequest, LoginRequest, NewPasswordRequest, RefreshRequest, RegisterRequest
from coursepay.accounts.repository import AccountsRepository
from coursepay.accounts.service import AccountService
from coursepay.api.principal import require_principal
from coursepay.api.request_parsing import parse_json_body
from coursepay.api.resolver import make_resolver
from coursepay.observability import logger, metrics, tracer
from coursepay.settings import AccountsSettings, load_settings
from coursepay.storage.audit import AuditTrail

app = make_resolver()


@cache
def service() -> AccountService:
    settings = load_settings(AccountsSettings)
    return AccountService(
        CognitoIdentity(settings.user_pool_id, settings.user_pool_client_id),
        AccountsRepository(settings.accounts_table),
        AuditTrail(settings.audit_table),
    )


@app.post("/auth/register")
def register() -> Response[str]:
    request = parse_json_body(RegisterRequest, app.current_event)
    profile = service().register(request)
    metrics.add_metric(name="AccountsRegistered", unit="Count", value=1)
    return Response(HTTPStatus.CREATED, content_types.APPLICATION_JSON, profile.model_dump_json())


@app.post("/auth/login")
def login() -> dict[str, Any]:
    request = parse_json_body(LoginRequest, app.current_event)
    return service().sign_in(request.email, request.password).model_dump()


@app.post("/auth/refresh")
def refresh() -> dict[str, Any]:
    request = parse_json_body(RefreshRequest, app.current_event)
    return service().refresh(request.refresh_token).model_dump()


@app.post("/auth/new-password")
def new_password() -> dict[str, Any]:
    request = parse_json_body(NewPasswordRequest, app.current_event)
    return service().complete_new_password(request.email, request.session, request.new_password).model_dump()


@app.get("/me")
def me() -> dict[str, Any]:
    return service().me(require_principal(app.current_event.raw_event)).model_dump()


@app.post("/admin/users/<user_id>/groups")
def add_to_group(user_id: str) -> dict[str, Any]:
    admin = require_principal(app.current_event.raw_event)
    request = parse_json_body(GroupRequest, app.current_event)
    return service().add_to_group(admin, user_id, request.group).model_dump()


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
@metrics.log_metrics
@tracer.capture_lambda_handler
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
