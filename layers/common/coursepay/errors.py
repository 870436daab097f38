"""Domain errors. Services raise these; the HTTP adapter maps them to statuses in one place
(coursepay.api.errors), consumers decide retry or drop."""

from __future__ import annotations


class DomainError(Exception):
    """Base of every expected failure. ``code`` is stable and machine-readable; ``field`` names the
    request field at fault, when there is one."""

    code = "domain_error"

    def __init__(self, message: str, *, field: str | None = None, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        if code is not None:
            self.code = code


class InvalidRequest(DomainError):
    code = "invalid_request"


class Unauthenticated(DomainError):
    code = "unauthenticated"


class Forbidden(DomainError):
    code = "forbidden"


class NotFound(DomainError):
    code = "not_found"


class Conflict(DomainError):
    code = "conflict"


class PaymentDeclined(DomainError):
    code = "payment_declined"


class Pending(DomainError):
    """The thing asked about exists but is not ready yet (e.g. an account still being created)."""

    code = "pending"


class UpstreamUnavailable(DomainError):
    """A dependency (Stripe, Cognito) failed in a way a retry may fix."""

    code = "upstream_unavailable"


class ConditionFailed(DomainError):
    """A conditional write lost: the invariant it protects already holds (storage-level)."""

    code = "condition_failed"
