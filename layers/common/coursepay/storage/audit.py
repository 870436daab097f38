"""Append-only audit trail: one item per change (who or which event, when, before, after).

Functions hold only dynamodb:PutItem on the audit table, and every write is conditional on the key
being new, so an entry can neither be changed nor overwritten. Entries expire 7 years after they are written
(``expires_at``, DynamoDB TTL: ``coursepay.storage.retention``).
"""

from __future__ import annotations

import json
import uuid
from decimal import Decimal
from typing import Any

from pydantic import BaseModel

from coursepay.clock import iso_now
from coursepay.storage.batches import ConditionalPut
from coursepay.storage.dynamo import DynamoTable
from coursepay.storage.retention import EXPIRY_ATTRIBUTE, record_expiry


class AuditEntry(BaseModel):
    entity: str  # e.g. "payment#pi_123", "enrollment#<user>#track#DP"
    action: str  # e.g. "payment.succeeded"
    actor: str  # "user:<sub>", "stripe:evt_123", "system"
    before: dict[str, Any] | None = None
    after: dict[str, Any] | None = None


def _plain(value: dict[str, Any] | None) -> str | None:
    # DynamoDB Decimals and nested maps are stored as a JSON string: an audit entry is read, never queried into.
    if value is None:
        return None
    return json.dumps(value, default=lambda v: int(v) if isinstance(v, Decimal) and v == int(v) else str(v),
                      sort_keys=True)


class AuditTrail:
    def __init__(self, table_name: str) -> None:
        self._table = DynamoTable(table_name)

    def record(self, entry: AuditEntry) -> None:
        self.put_for(entry).apply()

    def put_for(self, entry: AuditEntry) -> ConditionalPut:
        """The entry's write, to apply alone (:meth:`record`) or together with the change it records."""
        at = iso_now()
        return ConditionalPut(self._table, {
            "pk": entry.entity,
            "sk": f"{at}#{uuid.uuid4().hex[:12]}",
            "action": entry.action,
            "actor": entry.actor,
            "at": at,
            "before": _plain(entry.before),
            "after": _plain(entry.after),
            EXPIRY_ATTRIBUTE: record_expiry(),
        }, condition="attribute_not_exists(pk)")
