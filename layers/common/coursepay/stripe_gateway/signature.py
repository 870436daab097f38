"""Stripe webhook signature verification, as Stripe documents it, without importing the Stripe SDK
(the webhook function never calls Stripe, so it should not pay the SDK's import at cold start).

Header: ``Stripe-Signature: t=<unix seconds>,v1=<hex hmac>[,v1=...]``; the signed payload is
``f"{t}.{raw body}"`` under HMAC-SHA256 with the endpoint's ``whsec_`` secret.
"""

from __future__ import annotations

import hashlib
import hmac

from coursepay.errors import InvalidRequest


class InvalidSignature(InvalidRequest):
    code = "invalid_signature"


def compute_signature(secret: str, timestamp: int, payload: bytes) -> str:
    signed = f"{timestamp}.".encode() + payload
    return hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()


def verify_signature(payload: bytes, header: str | None, secret: str, *, tolerance: int, now: float) -> None:
    if not header:
        raise InvalidSignature("missing Stripe-Signature header", field="Stripe-Signature")
    timestamp: int | None = None
    candidates: list[str] = []
    for part in header.split(","):
        name, _, value = part.strip().partition("=")
        if name == "t":
            try:
                timestamp = int(value)
            except ValueError:
                raise InvalidSignature("malformed timestamp in Stripe-Signature",
                                       field="Stripe-Signature") from None
        elif name == "v1":
            candidates.append(value)
    if timestamp is None or not candidates:
        raise InvalidSignature("Stripe-Signature has no timestamp or no v1 signature", field="Stripe-Signature")
    expected = compute_signature(secret, timestamp, payload)
    if not any(hmac.compare_digest(expected, candidate) for candidate in candidates):
        raise InvalidSignature("signature does not match the payload", field="Stripe-Signature")
    if timestamp < now - tolerance:
        raise InvalidSignature("timestamp outside the tolerance zone", field="Stripe-Signature")
