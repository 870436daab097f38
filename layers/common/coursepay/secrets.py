"""Secrets from Secrets Manager through Powertools Parameters (cached in the container for 5 minutes,
so a rotated value is picked up without a redeploy).

Powertools' ``parameters`` package is imported at the first read, not at init: its ``__init__`` imports every
provider, and the AppConfig one imports boto3 (~250 ms of a cold start under -X importtime)."""

from __future__ import annotations

from typing import Any

from coursepay.observability import trace_aws_sdk

SECRET_CACHE_SECONDS = 300


def get_json_secret(secret_id: str) -> dict[str, Any]:
    from aws_lambda_powertools.utilities.parameters import get_secret

    trace_aws_sdk()  # Parameters makes its own Secrets Manager client
    value = get_secret(secret_id, transform="json", max_age=SECRET_CACHE_SECONDS)
    if not isinstance(value, dict):
        raise ValueError(f"secret {secret_id} does not hold a JSON object")
    return value
