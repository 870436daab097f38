"""Stripe-shaped API errors.

Every error the sandbox returns is raised as :class:`StripeError` and rendered
as Stripe renders errors: ``{"error": {"type", "code", "param", "message", ...}}``.
"""

from __future__ import annotations

from typing import Any


class StripeError(Exception):
    """An error that is returned to the API client in Stripe's error format."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        type: str = "invalid_request_error",
        code: str | None = None,
        param: str | None = None,
        decline_code: str | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.type = type
        self.code = code
        self.param = param
        self.decline_code = decline_code
        self.extra = extra or {}

    def body(self) -> dict[str, Any]:
        err: dict[str, Any] = {"type": self.type, "message": self.message}
        if self.code:
            err["code"] = self.code
            err["doc_url"] = f"https://stripe.com/docs/error-codes/{self.code.replace('_', '-')}"
        if self.param:
            err["param"] = self.param
        if self.decline_code:
            err["decline_code"] = self.decline_code
        err.update(self.extra)
        return {"error": err}


def missing(param: str) -> StripeError:
    return StripeError(400, f"Missing required param: {param}.", code="parameter_missing", param=param)


def unknown(param: str) -> StripeError:
    return StripeError(400, f"Received unknown parameter: {param}", code="parameter_unknown", param=param)


def invalid(param: str, message: str, code: str = "parameter_invalid_empty") -> StripeError:
    return StripeError(400, message, code=code, param=param)


def no_such(label: str, obj_id: str, param: str = "id") -> StripeError:
    return StripeError(404, f"No such {label}: '{obj_id}'", code="resource_missing", param=param)


def unexpected_state(message: str, code: str, extra: dict[str, Any] | None = None) -> StripeError:
    return StripeError(400, message, code=code, extra=extra)


def api_key_error(message: str) -> StripeError:
    return StripeError(401, message)
