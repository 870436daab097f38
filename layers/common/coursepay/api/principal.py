"""Who is calling: the claims the API Gateway JWT authorizer verified and passed on, as a ``Principal``."""

from __future__ import annotations

from typing import Any

from coursepay.errors import Unauthenticated
from coursepay.identity import Principal


def _groups(raw: Any) -> frozenset[str]:
    # HTTP API passes claims as strings: a list claim arrives as "[students teachers]".
    if isinstance(raw, list):
        return frozenset(str(group) for group in raw)
    if isinstance(raw, str):
        return frozenset(part for part in raw.strip("[]").replace(",", " ").split() if part)
    return frozenset()


def principal_from_event(event: dict[str, Any]) -> Principal | None:
    claims = (event.get("requestContext", {}).get("authorizer") or {}).get("jwt", {}).get("claims") or {}
    subject = claims.get("sub")
    if not subject:
        return None
    return Principal(user_id=str(subject), email=claims.get("email"), groups=_groups(claims.get("cognito:groups")))


def require_principal(event: dict[str, Any]) -> Principal:
    principal = principal_from_event(event)
    if principal is None:
        raise Unauthenticated("a valid bearer token is required")
    return principal
