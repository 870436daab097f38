"""Secrets from Secrets Manager through Powertools Parameters (cached in the container for 5 minutes,
so a rotated value is picked up without a redeploy)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities import parameters

SECRET_CACHE_SECONDS = 300


def get_json_secret(secret_id: str) -> dict[str, Any]:
    value = parameters.get_secret(secret_id, transform="json", max_age=SECRET_CACHE_SECONDS)
    if not isinstance(value, dict):
        raise ValueError(f"secret {secret_id} does not hold a JSON object")
    return value
