"""Every Stripe event received, stored once (``pk=<evt id>``), with whether it reached the bus."""

from __future__ import annotations

import json
from typing import Any

from coursepay.clock import iso_now
from coursepay.errors import ConditionFailed
from coursepay.storage.dynamo import DynamoTable

RECEIVED = "RECEIVED"
PUBLISHED = "PUBLISHED"


class StripeEventsRepository:
    def __init__(self, table_name: str) -> None:
        self._table = DynamoTable(table_name)

    def record_once(self, event: dict[str, Any]) -> bool:
        """Store the event; False when it was stored before (a duplicate delivery)."""
        try:
            self._table.put_new({
                "pk": event["id"],
                "type": event["type"],
                "created": int(event.get("created") or 0),
                "livemode": bool(event.get("livemode", False)),
                "received_at": iso_now(),
                "status": RECEIVED,
                "payload": json.dumps(event, separators=(",", ":")),
            })
        except ConditionFailed:
            return False
        return True

    def status(self, event_id: str) -> str | None:
        item = self._table.get({"pk": event_id})
        return str(item["status"]) if item else None

    def mark_published(self, event_id: str) -> None:
        self._table.update({"pk": event_id}, set_fields={"status": PUBLISHED, "published_at": iso_now()})
