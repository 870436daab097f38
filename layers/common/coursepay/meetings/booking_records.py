"""The one write the meetings consumer makes to a booking: its ``meeting``, set once.

TEMPORARY ADAPTER: the booking repository (``coursepay.bookings.booking_repository``, the lifecycle's) owns
booking items and their conditional ``transition``; until it is merged this module reads the item and makes
the same kind of write the contract describes (conditional on the version read, ``version`` + 1), on the
contract's key ``pk=BOOKING#<id>, sk=BOOKING``. Replace both calls with the repository's when it lands.
"""

from __future__ import annotations

from typing import Any

from coursepay.clock import iso_now
from coursepay.errors import ConditionFailed
from coursepay.meetings.interface import Meeting
from coursepay.storage.dynamo import DynamoTable, plain_numbers

STORAGE_KEYS = ("pk", "sk")
PRIVATE_FIELDS = ("version",)


def _key(booking_id: str) -> dict[str, str]:
    return {"pk": f"BOOKING#{booking_id}", "sk": "BOOKING"}


def public_view(item: dict[str, Any]) -> dict[str, Any]:
    """The booking as events carry it: every field but the storage keys, index keys and ``version``."""
    return {name: value for name, value in plain_numbers(item).items()
            if name not in STORAGE_KEYS + PRIVATE_FIELDS and not name.startswith("gsi") and name != "due_at"}


class BookingMeetingRecords:
    def __init__(self, table_name: str) -> None:
        self._table = DynamoTable(table_name)

    def get(self, booking_id: str) -> dict[str, Any] | None:
        item = self._table.get(_key(booking_id))
        return plain_numbers(item) if item is not None else None

    def attach_meeting(self, booking_id: str, meeting: Meeting, expected_version: int) -> dict[str, Any] | None:
        """Sets the meeting if the booking still has none at ``expected_version``; the new item, or None when
        another write came first (the caller reads again)."""
        try:
            item = self._table.update(
                _key(booking_id),
                set_fields={"meeting": meeting.model_dump(), "version": expected_version + 1, "updated_at": iso_now()},
                condition="#version = :expected AND (attribute_not_exists(#meeting) OR #meeting = :none)",
                names={"#version": "version", "#meeting": "meeting"},
                values={":expected": expected_version, ":none": None},
            )
        except ConditionFailed:
            return None
        return plain_numbers(item)
