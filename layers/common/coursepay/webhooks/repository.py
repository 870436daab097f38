"""Every Stripe event received, stored once (``pk=<evt id>``), with whether it reached the bus.

While an event is ``RECEIVED`` (stored, not yet on the bus) it carries ``gsi1pk=UNPUBLISHED`` and
``gsi1sk=<received_at>``: the sparse index ``gsi1`` then holds exactly the events still to publish, so the
reconciliation finds stuck ones with a Query. Publishing removes both attributes.
"""

from __future__ import annotations

import json
from typing import Any

from coursepay.clock import iso_now
from coursepay.storage.dynamo import DynamoTable, Item

RECEIVED = "RECEIVED"
PUBLISHED = "PUBLISHED"
UNPUBLISHED_INDEX = "gsi1"
UNPUBLISHED_PARTITION = "UNPUBLISHED"


class StripeEventsRepository:
    def __init__(self, table_name: str) -> None:
        self._table = DynamoTable(table_name)

    def record_once(self, event: dict[str, Any]) -> str | None:
        """Store the event (the table's stream then publishes it): None when stored now, else the status of the
        copy stored before (a duplicate delivery), told by the same conditional write."""
        received_at = iso_now()
        item: Item = {
            "pk": event["id"],
            "type": event["type"],
            "created": int(event.get("created") or 0),
            "livemode": bool(event.get("livemode", False)),
            "received_at": received_at,
            "status": RECEIVED,
            "gsi1pk": UNPUBLISHED_PARTITION,
            "gsi1sk": received_at,
            "payload": json.dumps(event, separators=(",", ":")),
        }
        if event.get("account"):  # an event of a Connect account (the Connect endpoint)
            item["account"] = str(event["account"])
        stored_before = self._table.put_or_existing(item, condition="attribute_not_exists(pk)")
        return None if stored_before is None else str(stored_before["status"])

    def mark_published(self, event_id: str) -> None:
        self._table.update({"pk": event_id}, set_fields={"status": PUBLISHED, "published_at": iso_now()},
                           remove=("gsi1pk", "gsi1sk"))

    def unpublished_before(self, received_before: str) -> list[dict[str, Any]]:
        """The stored payloads of events still RECEIVED that were received before the ISO time given."""
        items = self._table.query_all(partition=("gsi1pk", UNPUBLISHED_PARTITION), index=UNPUBLISHED_INDEX)
        return [json.loads(item["payload"]) for item in items if str(item["gsi1sk"]) < received_before]
