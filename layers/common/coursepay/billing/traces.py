"""One correlation id per purchase attempt, however many requests start it.

A Stripe create call is repeated with the same idempotency key (a double click, concurrent tabs, a retry after a
crash) and Stripe refuses a repeat whose parameters differ: the correlation id in the metadata must be the same
for every request of one key. The first request's id is claimed under the key (PaymentsTable
``TRACE#<idempotency key>``, kept as long as Stripe keeps the key, then expired) and the others reuse it.
"""

from __future__ import annotations

import time

from coursepay.clock import iso_now
from coursepay.correlation import current_correlation_id
from coursepay.errors import ConditionFailed
from coursepay.storage.dynamo import DynamoTable

# Stripe keeps an idempotency key 24 hours; a day more for clock skew before DynamoDB's TTL removes the claim.
_CLAIM_SECONDS = 2 * 24 * 3600


class AttemptTraces:
    def __init__(self, payments_table: str) -> None:
        self._table = DynamoTable(payments_table)

    def claim(self, idempotency_key: str) -> str | None:
        """The attempt's correlation id: the bound one if this is the first request of the key, else the first's.
        None outside a traced unit of work."""
        current = current_correlation_id()
        if not current:
            return None
        key = {"pk": f"TRACE#{idempotency_key}", "sk": "TRACE"}
        try:
            self._table.put_new({**key, "correlation_id": current, "created_at": iso_now(),
                                 "expires_at": int(time.time()) + _CLAIM_SECONDS})
        except ConditionFailed:
            first = self._table.get(key)
            return str(first["correlation_id"]) if first else current
        return current
