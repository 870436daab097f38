"""Where the last reconciliation got to: the ``created`` time of the newest event it relayed, kept in
StripeEventsTable under a reserved key (never an ``evt_`` id). It only ever moves forward: the write is
conditional, so two runs at once (the schedule and an operator command) cannot move it backwards."""

from __future__ import annotations

from coursepay.clock import iso_now
from coursepay.errors import ConditionFailed
from coursepay.storage.dynamo import DynamoTable

CHECKPOINT_KEY = "reconciliation#checkpoint#platform"


class ReconciliationCheckpoint:
    def __init__(self, table_name: str) -> None:
        self._table = DynamoTable(table_name)

    def newest_created(self) -> int | None:
        item = self._table.get({"pk": CHECKPOINT_KEY})
        return int(item["newest_created"]) if item else None

    def advance(self, newest_created: int) -> bool:
        """Move the checkpoint to ``newest_created`` unless it is there or further already (False then)."""
        try:
            self._table.update(
                {"pk": CHECKPOINT_KEY},
                set_fields={"newest_created": newest_created, "updated_at": iso_now()},
                condition="attribute_not_exists(#created) OR #created < :created",
                names={"#created": "newest_created"},
                values={":created": newest_created},
            )
        except ConditionFailed:
            return False
        return True
