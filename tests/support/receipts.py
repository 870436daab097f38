"""Consumers' receipts in IdempotencyTable (``<consumer>#<event id>``)."""

from __future__ import annotations

from typing import Any


def completed(table: Any, key: str) -> dict[str, Any] | None:
    """The receipt once the consumer has finished (it is IN_PROGRESS while it works), else None."""
    item = table.get_item(Key={"pk": key}, ConsistentRead=True).get("Item")
    return item if item and item["status"] == "COMPLETED" else None
