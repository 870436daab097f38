"""Bookings as the lifecycle stores them (the contract's fields, ``pk=BOOKING#<id>, sk=BOOKING``) and the
``coursepay.bookings`` envelopes about them, for the meetings and booking e-mail tests (until the lifecycle's
routes can make real ones)."""

from __future__ import annotations

import uuid
from typing import Any

from coursepay.events.envelope import Envelope
from coursepay.meetings.booking_events import BOOKINGS_SOURCE, booking_event_id
from coursepay.meetings.booking_records import public_view


def booking_item(teacher_id: str, student_id: str, **overrides: Any) -> dict[str, Any]:
    """A paid, confirmed booking: 90 minutes at 50.00/h (7500 + 375 fee), Tuesday 15 December 2026 14:00 UTC."""
    booking_id = overrides.pop("booking_id", f"bk_{uuid.uuid4().hex}")
    item: dict[str, Any] = {
        "pk": f"BOOKING#{booking_id}", "sk": "BOOKING", "booking_id": booking_id, "gig_id": "gig_german",
        "gig_title": "Conversational German", "teacher_id": teacher_id, "student_id": student_id,
        "start": "2026-12-15T14:00:00.000Z", "end": "2026-12-15T15:30:00.000Z", "duration_minutes": 90,
        "time_zone": "Europe/Berlin", "currency": "eur", "base_amount": 7500, "fee_amount": 375,
        "total_amount": 7875, "status": "confirmed", "payment_status": "paid",
        "requested_at": "2026-12-01T09:00:00.000Z", "respond_by": "2026-12-03T09:00:00.000Z",
        "confirmed_at": "2026-12-01T10:00:00.000Z", "payment_due": "2026-12-02T10:00:00.000Z",
        "payment_intent_id": "pi_3Qbooking0001", "refunded_amount": 0, "transfer_reversed": False,
        "meeting": None, "problem_reported": False, "version": 3, "created_at": "2026-12-01T09:00:00.000Z",
        "updated_at": "2026-12-01T11:00:00.000Z",
    }
    item.update(overrides)
    return item


def booking_event(event_type: str, item: dict[str, Any], *, suffix: str | None = None,
                  **extra: Any) -> Envelope:
    """The envelope the owner of ``event_type`` publishes: the contract's deterministic id, the public view."""
    return Envelope(id=booking_event_id(item["booking_id"], event_type, suffix), source=BOOKINGS_SOURCE,
                    type=event_type, data={**public_view(item), **extra})
