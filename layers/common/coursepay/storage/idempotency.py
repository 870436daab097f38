"""Claims that make a repeatable side effect run once per key (an SQS message's event id, a Stripe
Checkout Session's fulfilment, a double-clicked request).

A claim moves IN_PROGRESS -> COMPLETED. A second caller finds COMPLETED and skips; finds a live
IN_PROGRESS and must retry later (raised as ClaimBusy); finds an IN_PROGRESS whose lease has run out
(the first worker died) and takes it over. A failed attempt releases its claim so a retry can run.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from coursepay.clock import iso_now
from coursepay.errors import DomainError
from coursepay.storage.dynamo import DynamoTable

RECORD_RETENTION_SECONDS = 30 * 24 * 3600


class ClaimBusy(DomainError):
    code = "in_progress"

    def __init__(self, message: str, *, lease_until: int) -> None:
        super().__init__(message)
        self.lease_until = lease_until  # epoch seconds: a retry before then finds the claim busy again


class IdempotencyStore:
    def __init__(self, table_name: str, *, lease_seconds: int = 60) -> None:
        self._table = DynamoTable(table_name)
        self._lease_seconds = lease_seconds

    def run_once[T](self, key: str, action: Callable[[], T], *, details: dict[str, Any] | None = None) -> T | None:
        """Run ``action`` unless ``key`` already completed; returns its result, or None when skipped."""
        now = int(time.time())
        # a repeat is told apart in the claim's own round trip: the failed write returns the claim that stopped it
        existing = self._table.put_or_existing(
            {"pk": key, "status": "IN_PROGRESS", "lease_until": now + self._lease_seconds,
             "started_at": iso_now(), "expires_at": now + RECORD_RETENTION_SECONDS, **(details or {})},
            condition="attribute_not_exists(pk) OR (#s = :in_progress AND lease_until < :now)",
            names={"#s": "status"},
            values={":in_progress": "IN_PROGRESS", ":now": now},
        )
        if existing is not None:
            if existing.get("status") == "COMPLETED":
                return None
            raise ClaimBusy(f"{key} is being processed by another worker",
                            lease_until=int(existing.get("lease_until") or now))
        try:
            result = action()
        except BaseException:
            self._table.delete({"pk": key})
            raise
        self._table.update({"pk": key}, set_fields={"status": "COMPLETED", "completed_at": iso_now()})
        return result

    def get(self, key: str) -> dict[str, Any] | None:
        return self._table.get({"pk": key})
