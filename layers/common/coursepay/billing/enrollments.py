"""Enrollments: who has access to what, since when, until when, and why.

Keys (enrollments table): ``pk=USER#<user>, sk=<kind>#<item>`` (e.g. ``course#crs_1``, ``track#DP``);
gsi1 ``<kind>#<item>`` / ``USER#<user>`` (the roster of a course or track). ``access_until`` is None for
lifetime access (one-time purchases) and the paid period's end (plus grace) for subscriptions.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

from coursepay.billing.payments import ProductKind
from coursepay.clock import iso_now, utc_now
from coursepay.storage.batches import BatchRead, ConditionalPut, Slot
from coursepay.storage.dynamo import DynamoTable, item_to_model

# suspended: a dispute is open on the payment that grants it (``suspended_status`` is what a won dispute restores)
EnrollmentStatus = Literal["active", "past_due", "canceled", "withdrawn", "expired", "suspended"]


class Enrollment(BaseModel):
    user_id: str
    kind: ProductKind
    item_id: str
    status: EnrollmentStatus = "active"
    source: str  # the payment or subscription id that grants it
    access_until: str | None = None
    suspended_status: EnrollmentStatus | None = None
    enrolled_at: str = Field(default_factory=iso_now)
    updated_at: str = Field(default_factory=iso_now)

    def has_access(self, now: datetime | None = None) -> bool:
        if self.status not in ("active", "past_due", "canceled"):
            return False
        if self.access_until is None:
            return self.status == "active"
        moment = now or utc_now()
        return datetime.fromisoformat(self.access_until.replace("Z", "+00:00")) > moment


def _key(user_id: str, kind: str, item_id: str) -> dict[str, str]:
    return {"pk": f"USER#{user_id}", "sk": f"{kind}#{item_id}"}


class EnrollmentsRepository:
    def __init__(self, table_name: str) -> None:
        self.table = DynamoTable(table_name)

    def get(self, user_id: str, kind: str, item_id: str) -> Enrollment | None:
        item = self.table.get(_key(user_id, kind, item_id))
        return _from_item(item) if item else None

    def want(self, batch: BatchRead, user_id: str, kind: str, item_id: str) -> Slot[Enrollment]:
        """The enrollment, read with the other keys of ``batch``."""
        return batch.want(self.table, _key(user_id, kind, item_id), _from_item)

    def save(self, enrollment: Enrollment) -> None:
        self.save_put(enrollment).apply()

    def save_put(self, enrollment: Enrollment) -> ConditionalPut:
        """:meth:`save`'s write (it replaces what is there), to apply together with others."""
        return ConditionalPut(self.table, {
            **_key(enrollment.user_id, enrollment.kind, enrollment.item_id),
            "gsi1pk": f"{enrollment.kind}#{enrollment.item_id}",
            "gsi1sk": f"USER#{enrollment.user_id}",
            **enrollment.model_dump(exclude_none=True),
            "updated_at": iso_now(),
        })

    def of_user(self, user_id: str, kind: str | None = None) -> list[Enrollment]:
        prefix = ("sk", f"{kind}#") if kind else None
        items = self.table.query_all(partition=("pk", f"USER#{user_id}"), sort_prefix=prefix)
        return [_from_item(item) for item in items if "kind" in item and "status" in item]


def _from_item(item: dict[str, Any]) -> Enrollment:
    return item_to_model(Enrollment, item)
