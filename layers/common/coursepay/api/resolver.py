"""The resolver every HTTP function uses: the shared error mapping installed, and each request bound to its
correlation id (``coursepay.correlation``), which every response returns in its ``x-correlation-id`` header."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver

from coursepay.api.errors import install_error_handlers
from coursepay.correlation import CORRELATION_HEADER, correlated, of_api_request


class CorrelatedResolver(APIGatewayHttpResolver):
    def resolve(self, event: Mapping[str, Any], context: Any) -> dict[str, Any]:
        # around the whole resolution, so error responses (the error handlers, unknown routes) carry it too
        with correlated(of_api_request(event)) as correlation_id:
            response = super().resolve(event, context)
        response.setdefault("headers", {})[CORRELATION_HEADER] = correlation_id
        return response


def make_resolver() -> APIGatewayHttpResolver:
    app = CorrelatedResolver()
    install_error_handlers(app)
    return app
