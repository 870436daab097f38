"""A reference to another Stripe object, however it arrives: an id, an expanded object (SDK or event JSON) or none."""

from __future__ import annotations

from typing import Any


def id_of(reference: Any) -> str | None:
    if reference is None or isinstance(reference, str):
        return reference or None
    if isinstance(reference, dict):
        return str(reference["id"]) if reference.get("id") else None
    return str(reference.id)
