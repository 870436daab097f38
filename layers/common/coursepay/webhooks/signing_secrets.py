"""The signing secrets of one webhook endpoint, as the operator stores them in Secrets Manager.

``{"signing_secrets": ["whsec_new", "whsec_old"]}`` lists every secret that currently verifies (a rotation
keeps the old one until Stripe stops signing with it); the older form ``{"signing_secret": "whsec_…"}`` is
still read. A secret holding neither is a configuration error: the invocation fails (500) and Stripe
retries, rather than every event being refused as forged (400, which Stripe would not retry for long).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from coursepay.secrets import get_json_secret


class SigningSecretsMissing(RuntimeError):
    pass


def parse_signing_secrets(value: Mapping[str, Any], *, secret_id: str) -> tuple[str, ...]:
    listed = value.get("signing_secrets")
    if listed is None and "signing_secret" in value:
        listed = [value["signing_secret"]]
    if not isinstance(listed, list) or not listed or not all(isinstance(s, str) and s for s in listed):
        raise SigningSecretsMissing(
            f'{secret_id} holds no signing secret: expected {{"signing_secrets": ["whsec_…", …]}}')
    return tuple(listed)


def signing_secrets(secret_id: str) -> tuple[str, ...]:
    """The endpoint's secrets (cached with the secret for 5 minutes, so a rotation needs no redeploy)."""
    return parse_signing_secrets(get_json_secret(secret_id), secret_id=secret_id)
