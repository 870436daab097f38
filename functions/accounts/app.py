"""Accounts API: POST /auth/register, /auth/login, /auth/refresh; the e-mailed links: POST /auth/set-password,
/auth/password-reset, /auth/verify-email, /auth/verify-email/resend; GET /auth/terms; GET /me, /me/export;
DELETE /me; POST /admin/users/{userId}/groups."""

from __future__ import annotations

from functools import cache
from http import HTTPStatus
from typing import Any

from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel, ConfigDict

from coursepay.accounts.consent import ConsentLedger
from coursepay.accounts.identity import CognitoIdentity
from coursepay.accounts.links import AccountLinkFlows
from coursepay.accounts.mail import AccountMail
from coursepay.accounts.models import (
    Accepted,
    EmailRequest,
    GroupRequest,
    LinkUsed,
    LoginRequest,
    Profile,
    RefreshRequest,
    RegisterRequest,
    SetPasswordRequest,
    TermsView,
    TokenRequest,
    Tokens,
)
from coursepay.accounts.personal_data import PersonalData, PersonalDataExport
from coursepay.accounts.repository import AccountsRepository
from coursepay.accounts.service import AccountService
from coursepay.accounts.settings import AccountsFunctionSettings
from coursepay.accounts.tokens import AccountLinks
from coursepay.api.principal import require_principal
from coursepay.api.request_parsing import parse_json_body
from coursepay.api.resolver import make_resolver
from coursepay.api.responses import responds
from coursepay.billing.enrollments import EnrollmentsRepository
from coursepay.billing.payments import PaymentsRepository
from coursepay.observability import logger, metrics, tracer
from coursepay.refunds.repository import RefundRequestsRepository
from coursepay.settings import load_settings
from coursepay.storage.audit import AuditTrail
from coursepay.subscriptions.repository import SubscriptionsRepository

app = make_resolver()


class Services(BaseModel):
    model_config = ConfigDict(arbitrary_types_allowed=True, frozen=True)

    accounts: AccountService
    links: AccountLinkFlows
    personal_data: PersonalData


@cache
def services() -> Services:
    settings = load_settings(AccountsFunctionSettings)
    identity = CognitoIdentity(settings.user_pool_id, settings.user_pool_client_id)
    accounts = AccountsRepository(settings.accounts_table)
    audit = AuditTrail(settings.audit_table)
    consents = ConsentLedger(settings.accounts_table, audit)
    tokens = AccountLinks(settings.accounts_table)
    links = AccountLinkFlows(identity, accounts, tokens, AccountMail(settings), audit)
    return Services(
        accounts=AccountService(identity, accounts, audit, consents=consents, links=links,
                                terms_version=settings.terms_version),
        links=links,
        personal_data=PersonalData(
            identity=identity, accounts=accounts, consents=consents, links=tokens,
            payments=PaymentsRepository(settings.payments_table),
            enrollments=EnrollmentsRepository(settings.enrollments_table),
            subscriptions=SubscriptionsRepository(settings.payments_table),
            refund_requests=RefundRequestsRepository(settings.payments_table), audit=audit),
    )



@app.get("/auth/terms")
@responds(TermsView)
def terms() -> TermsView:
    return TermsView(version=services().accounts.terms_version)


@app.post("/auth/register")
@responds(Profile, HTTPStatus.CREATED)
def register() -> Profile:
    request = parse_json_body(RegisterRequest, app.current_event)
    profile = services().accounts.register(request)
    metrics.add_metric(name="AccountsRegistered", unit="Count", value=1)
    return profile


@app.post("/auth/login")
@responds(Tokens)
def login() -> Tokens:
    request = parse_json_body(LoginRequest, app.current_event)
    return services().accounts.sign_in(request.email, request.password)


@app.post("/auth/refresh")
@responds(Tokens)
def refresh() -> Tokens:
    request = parse_json_body(RefreshRequest, app.current_event)
    return services().accounts.refresh(request.refresh_token)


@app.post("/auth/set-password")
@responds(LinkUsed)
def set_password() -> LinkUsed:
    request = parse_json_body(SetPasswordRequest, app.current_event)
    return services().links.set_password(request.token, request.new_password)


@app.post("/auth/password-reset")
@responds(Accepted, HTTPStatus.ACCEPTED)
def password_reset() -> Accepted:
    request = parse_json_body(EmailRequest, app.current_event)
    return services().links.request_password_reset(request.email)


@app.post("/auth/verify-email")
@responds(LinkUsed)
def verify_email() -> LinkUsed:
    request = parse_json_body(TokenRequest, app.current_event)
    return services().links.verify_email(request.token)


@app.post("/auth/verify-email/resend")
@responds(Accepted, HTTPStatus.ACCEPTED)
def resend_verification() -> Accepted:
    request = parse_json_body(EmailRequest, app.current_event)
    return services().links.resend_verification(request.email)


@app.get("/me")
@responds(Profile)
def me() -> Profile:
    return services().accounts.me(require_principal(app.current_event.raw_event))


@app.get("/me/export")
@responds(PersonalDataExport)
def export() -> PersonalDataExport:
    return services().personal_data.export(require_principal(app.current_event.raw_event))


@app.delete("/me")
@responds(None, HTTPStatus.NO_CONTENT)
def delete_me() -> None:
    services().personal_data.delete(require_principal(app.current_event.raw_event))


@app.post("/admin/users/<user_id>/groups")
@responds(Profile)
def add_to_group(user_id: str) -> Profile:
    admin = require_principal(app.current_event.raw_event)
    request = parse_json_body(GroupRequest, app.current_event)
    return services().accounts.add_to_group(admin, user_id, request.group)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
@metrics.log_metrics
@tracer.capture_lambda_handler
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
