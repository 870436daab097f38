"""The resolver every HTTP function uses, with the shared error mapping installed."""

from __future__ import annotations

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver

from coursepay.api.errors import install_error_handlers


def make_resolver() -> APIGatewayHttpResolver:
    app = APIGatewayHttpResolver()
    install_error_handlers(app)
    return app
