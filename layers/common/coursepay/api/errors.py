"""Domain errors -> HTTP, in one place. Every error body has the same stable shape:
``{"error": {"code": "...", "message": "...", "field": "..." | null}}``."""

from __future__ import annotations

from http import HTTPStatus

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response, content_types

from coursepay import errors
from coursepay.observability import logger

STATUS_BY_ERROR: list[tuple[type[errors.DomainError], HTTPStatus]] = [
    (errors.InvalidRequest, HTTPStatus.BAD_REQUEST),
    (errors.Unauthenticated, HTTPStatus.UNAUTHORIZED),
    (errors.PaymentDeclined, HTTPStatus.PAYMENT_REQUIRED),
    (errors.Forbidden, HTTPStatus.FORBIDDEN),
    (errors.NotFound, HTTPStatus.NOT_FOUND),
    (errors.Conflict, HTTPStatus.CONFLICT),
    (errors.ConditionFailed, HTTPStatus.CONFLICT),
    (errors.Pending, HTTPStatus.ACCEPTED),
    (errors.UpstreamUnavailable, HTTPStatus.SERVICE_UNAVAILABLE),
]


def error_response(status: HTTPStatus, code: str, message: str, field: str | None = None) -> Response[str]:
    import json

    return Response(
        status_code=status,
        content_type=content_types.APPLICATION_JSON,
        body=json.dumps({"error": {"code": code, "message": message, "field": field}}),
    )


def status_for(error: errors.DomainError) -> HTTPStatus:
    for error_type, status in STATUS_BY_ERROR:
        if isinstance(error, error_type):
            return status
    return HTTPStatus.INTERNAL_SERVER_ERROR


def install_error_handlers(app: APIGatewayHttpResolver) -> None:
    @app.exception_handler(errors.DomainError)
    def _domain_error(error: errors.DomainError) -> Response[str]:
        status = status_for(error)
        if status >= HTTPStatus.INTERNAL_SERVER_ERROR:
            logger.exception("domain error without a client-facing status")
        else:
            logger.info("request refused", code=error.code, status=int(status), field=error.field)
        return error_response(status, error.code, error.message, error.field)

    @app.not_found
    def _not_found(_: Exception) -> Response[str]:
        return error_response(HTTPStatus.NOT_FOUND, "route_not_found", "no such route")
