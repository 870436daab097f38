"""Page cursors: a DynamoDB ``LastEvaluatedKey`` handed to the client as an opaque url-safe string, and read back
only when it has exactly the key attributes of the index it pages (anything else is a 400 naming ``cursor``)."""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

from coursepay.errors import InvalidRequest
from coursepay.storage.dynamo import plain_numbers


def encode_cursor(key: dict[str, Any] | None) -> str | None:
    if not key:
        return None
    return base64.urlsafe_b64encode(json.dumps(plain_numbers(key), sort_keys=True).encode()).decode().rstrip("=")


def decode_cursor(cursor: str | None, *, expected_keys: set[str]) -> dict[str, Any] | None:
    if not cursor:
        return None
    try:
        key = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (binascii.Error, ValueError, UnicodeDecodeError):
        raise InvalidRequest("cursor is not one this API returned", field="cursor") from None
    if not isinstance(key, dict) or set(key) != expected_keys or not all(isinstance(v, str) for v in key.values()):
        raise InvalidRequest("cursor is not one this API returned", field="cursor")
    return key
