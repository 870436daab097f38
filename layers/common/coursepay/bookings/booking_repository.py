"""Bookings in the bookings table (docs/data-model.md, BookingsTable): ``pk=BOOKING#<id>, sk=BOOKING``.

- gsi1 ``STUDENT#<student_id>`` / ``BOOKING#<requested_at>#<id>``: a student's bookings;
- gsi2 ``TEACHER_BOOKINGS#<teacher_id>`` / ``<requested_at>#<id>``: bookings of a teacher's gigs;
- gsi3 ``BOOKINGS`` / ``<requested_at>#<id>``: every booking (admins);
- ``due`` ``BOOKINGS_DUE`` / ``<due_at>``: sparse, only bookings the scheduler has something to do with
  (coursepay.bookings.bookings.due_at), so each run is one Query of what is due, never a scan.

A live booking holds one lock item per 15-minute slot of its teacher (``pk=SLOT#<teacher_id>#<slot start>,
sk=SLOT``), written in the same transaction as the booking, each conditional on not existing: two requests
for overlapping slots of one teacher cannot both commit. A booking that leaves the live states deletes its
locks in the transaction of that transition. Every other write is conditional on the version read; nobody
writes booking items elsewhere."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from datetime import datetime, timedelta
from typing import Any

from coursepay.bookings.bookings import SLOT_MINUTES, Booking, BookingPage, due_at
from coursepay.clock import iso_now, iso_time
from coursepay.errors import ConditionFailed, NotFound
from coursepay.storage.cursors import decode_cursor, encode_cursor
from coursepay.storage.dynamo import DynamoTable, item_to_model, translated_errors

DUE_PARTITION = "BOOKINGS_DUE"
_VERSION_RACE_RETRIES = 5


def _key(booking_id: str) -> dict[str, str]:
    return {"pk": f"BOOKING#{booking_id}", "sk": "BOOKING"}


def slot_starts(start: str, duration_minutes: int) -> list[str]:
    """The quarter-hour slots ``[start, start + duration)`` covers, as UTC time text."""
    first = datetime.fromisoformat(start)
    return [iso_time(first + timedelta(minutes=offset)) for offset in range(0, duration_minutes, SLOT_MINUTES)]


def _lock_key(teacher_id: str, slot: str) -> dict[str, str]:
    return {"pk": f"SLOT#{teacher_id}#{slot}", "sk": "SLOT"}


def _item(booking: Booking) -> dict[str, Any]:
    listed = f"{booking.requested_at}#{booking.booking_id}"
    item = {**_key(booking.booking_id), **booking.model_dump(mode="json", exclude_none=True),
            "gsi1pk": f"STUDENT#{booking.student_id}", "gsi1sk": f"BOOKING#{listed}",
            "gsi2pk": f"TEACHER_BOOKINGS#{booking.teacher_id}", "gsi2sk": listed,
            "gsi3pk": "BOOKINGS", "gsi3sk": listed}
    due = due_at(booking)
    if due is not None:
        item |= {"due_pk": DUE_PARTITION, "due_at": due}
    return item


def _from_item(item: Mapping[str, Any]) -> Booking:
    return item_to_model(Booking, item)


class BookingsRepository:
    def __init__(self, table_name: str) -> None:
        self._table = DynamoTable(table_name)

    # ------------------------------------------------------------------ writes
    def create(self, booking: Booking) -> None:
        """Store a new booking with the locks of its slots, atomically. ConditionFailed when the booking exists
        (the same request again) or any of its slots is held by another live booking of the teacher."""
        locks = [{**_lock_key(booking.teacher_id, slot), "booking_id": booking.booking_id,
                  "created_at": booking.created_at}
                 for slot in slot_starts(booking.start, booking.duration_minutes)]
        self._transact([{"Put": {"TableName": self._table.name, "Item": item,
                                 "ConditionExpression": "attribute_not_exists(pk)"}}
                        for item in [_item(booking), *locks]])

    def transition(self, booking_id: str, from_states: Collection[str], changes: Mapping[str, Any],
                   expected_version: int | None = None) -> Booking:
        """Apply ``changes`` if the booking's status is one of ``from_states`` (and, when given, its version is
        ``expected_version``); returns the booking as written (version + 1). ConditionFailed when the status or
        the expected version does not hold. Without ``expected_version`` a concurrent write of another field
        is retried on a fresh read (the status is checked again each time). Leaving the live states releases
        the booking's slots in the same transaction. NotFound when there is no such booking."""
        for _ in range(_VERSION_RACE_RETRIES):
            current = self.get(booking_id)
            if current is None:
                raise NotFound("no such booking", field="bookingId")
            if expected_version is not None and current.version != expected_version:
                raise ConditionFailed(f"the booking is at version {current.version}, not {expected_version}")
            if current.status not in from_states:
                raise ConditionFailed(f"the booking is {current.status}")
            updated = Booking.model_validate({**current.model_dump(), **changes, "version": current.version + 1,
                                              "updated_at": iso_now()})
            try:
                self._replace(current, updated)
            except ConditionFailed:
                if expected_version is not None:
                    raise
                continue  # another write came between the read and this one: read again
            return updated
        raise ConditionFailed("the booking kept changing while it was being updated")

    def _replace(self, current: Booking, updated: Booking) -> None:
        put: dict[str, Any] = {"Put": {
            "TableName": self._table.name, "Item": _item(updated),
            "ConditionExpression": "#version = :read", "ExpressionAttributeNames": {"#version": "version"},
            "ExpressionAttributeValues": {":read": current.version}}}
        releases = []
        if current.live and not updated.live:
            releases = [{"Delete": {"TableName": self._table.name, "Key": _lock_key(current.teacher_id, slot),
                                    "ConditionExpression": "booking_id = :booking",
                                    "ExpressionAttributeValues": {":booking": current.booking_id}}}
                        for slot in slot_starts(current.start, current.duration_minutes)]
        self._transact([put, *releases])

    def _transact(self, items: list[dict[str, Any]]) -> None:
        client = self._table.table.meta.client  # the resource's client: it serialises Python values itself
        with translated_errors():
            client.transact_write_items(TransactItems=items)  # type: ignore[arg-type]

    # ------------------------------------------------------------------ reads
    def get(self, booking_id: str) -> Booking | None:
        item = self._table.get(_key(booking_id))
        return _from_item(item) if item else None

    def slot_holder(self, teacher_id: str, slot: str) -> str | None:
        """The booking holding one slot of the teacher (None: free)."""
        item = self._table.get(_lock_key(teacher_id, slot))
        return str(item["booking_id"]) if item else None

    def of_student(self, student_id: str, *, limit: int, cursor: str | None) -> BookingPage:
        return self._page("gsi1", ("gsi1pk", f"STUDENT#{student_id}"), ("gsi1sk", "BOOKING#"), limit, cursor)

    def of_teacher(self, teacher_id: str, *, limit: int, cursor: str | None) -> BookingPage:
        return self._page("gsi2", ("gsi2pk", f"TEACHER_BOOKINGS#{teacher_id}"), None, limit, cursor)

    def every(self, *, limit: int, cursor: str | None) -> BookingPage:
        return self._page("gsi3", ("gsi3pk", "BOOKINGS"), None, limit, cursor)

    def _page(self, index: str, partition: tuple[str, str], sort_prefix: tuple[str, str] | None, limit: int,
              cursor: str | None) -> BookingPage:
        start = decode_cursor(cursor, expected_keys={"pk", "sk", f"{index}pk", f"{index}sk"})
        items, last = self._table.query_page(partition=partition, sort_prefix=sort_prefix, index=index,
                                             limit=limit, start_key=start, newest_first=True)
        return BookingPage(items=[_from_item(item) for item in items], next_cursor=encode_cursor(last))

    def due(self, now: str, *, limit: int = 100) -> list[Booking]:
        """Up to ``limit`` bookings whose next scheduled step is at or before ``now``, oldest first."""
        from boto3.dynamodb.conditions import Key

        with translated_errors():
            response = self._table.table.query(
                IndexName="due", KeyConditionExpression=Key("due_pk").eq(DUE_PARTITION) & Key("due_at").lte(now),
                Limit=limit)
        return [_from_item(item) for item in response.get("Items", [])]
