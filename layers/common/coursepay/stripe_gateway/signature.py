"""Stripe webhook signature verification, as Stripe documents it, without importing the Stripe SDK
(the webhook function never calls Stripe, so it should not pay the SDK's import at cold start).

Header: ``Stripe-Signature: t=<unix seconds>,v1=<hex hmac>[,v1=...]``; the signed payload is
``f"{t}.{raw body}"`` under HMAC-SHA256 with the endpoint's ``whsec_`` secret.

Several secrets: a signature valid under ANY of the given secrets passes. During a rotation the
endpoint's new and old secrets are both configured (Stripe signs with both while the old one lives,
sending one ``v1`` per secret), so deliveries verify whichever of the two the configuration lists first.

Timestamp rule: with ``now`` floored to whole seconds (``t`` is whole seconds, so a fractional clock
would otherwise reject ``t = now - tolerance`` a fraction of a second after it was signed), the
signature is accepted when ``|now - t| <= tolerance``. That rejects replays older than the tolerance
AND timestamps further than the tolerance in the future (a clock far ahead, or a forged header). The
timestamp is checked only after the signature matched, so a failure never tells an attacker which
secret-less timestamps would pass.
"""

from __future__ import annotations

import hashlib
import hmac
import math
from collections.abc import Sequence

from coursepay.errors import InvalidRequest


class InvalidSignature(InvalidRequest):
    code = "invalid_signature"


def compute_signature(secret: str, timestamp: int, payload: bytes) -> str:
    signed = f"{timestamp}.".encode() + payload
    return hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()


def within_tolerance(timestamp: int, *, tolerance: int, now: float) -> bool:
    """The module's timestamp rule: ``|floor(now) - timestamp| <= tolerance``."""
    return abs(math.floor(now) - timestamp) <= tolerance


def verify_signature(payload: bytes, header: str | None, secrets: Sequence[str], *, tolerance: int,
                     now: float) -> None:
    if isinstance(secrets, str) or not secrets:  # a bare str is a Sequence too: refuse it, never iterate its chars
        raise ValueError("verify_signature takes a non-empty sequence of signing secrets")
    if not header:
        raise InvalidSignature("missing Stripe-Signature header", field="Stripe-Signature")
    timestamp, candidates = _parse_header(header)
    matched = any(hmac.compare_digest(compute_signature(secret, timestamp, payload), candidate)
                  for secret in secrets for candidate in candidates)
    if not matched:
        raise InvalidSignature("signature does not match the payload", field="Stripe-Signature")
    if not within_tolerance(timestamp, tolerance=tolerance, now=now):
        raise InvalidSignature("timestamp outside the tolerance zone", field="Stripe-Signature")


def _parse_header(header: str) -> tuple[int, list[str]]:
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
    return timestamp, candidates
