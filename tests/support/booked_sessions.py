"""Bookings as the lifecycle makes them (``coursepay.bookings.bookings.Booking``) and the ``coursepay.bookings``
envelopes about them, for the meetings and booking e-mail tests."""

from __future__ import annotations

import uuid
from typing import Any

from coursepay.bookings.bookings import Booking, public_view
from coursepay.bookings.events import BOOKINGS_SOURCE, booking_event_id
from coursepay.events.envelope import Envelope


def booked(teacher_id: str, student_id: str, **overrides: Any) -> Booking:
    """A paid, confirmed booking: 90 minutes at 50.00/h (7500 + 375 fee), Tuesday 15 December 2026 14:00 UTC."""
    fields: dict[str, Any] = {
        "booking_id": f"bk_{uuid.uuid4().hex}", "gig_id": "gig_german", "gig_title": "Conversational German",
        "teacher_id": teacher_id, "student_id": student_id, "start": "2026-12-15T14:00:00.000Z",
        "end": "2026-12-15T15:30:00.000Z", "duration_minutes": 90, "time_zone": "Europe/Berlin", "currency": "eur",
        "base_amount": 7500, "fee_amount": 375, "total_amount": 7875, "status": "confirmed",
        "payment_status": "paid", "requested_at": "2026-12-01T09:00:00.000Z",
        "respond_by": "2026-12-03T09:00:00.000Z", "confirmed_at": "2026-12-01T10:00:00.000Z",
        "payment_due": "2026-12-02T10:00:00.000Z", "payment_intent_id": "pi_3Qbooking0001", "version": 3,
        "created_at": "2026-12-01T09:00:00.000Z", "updated_at": "2026-12-01T11:00:00.000Z",
    }
    return Booking.model_validate({**fields, **overrides})


def stored_item(booking: Booking) -> dict[str, Any]:
    """The booking's item in BookingsTable, as the repository stores it (its list index keys left out)."""
    return {"pk": f"BOOKING#{booking.booking_id}", "sk": "BOOKING",
            **booking.model_dump(mode="json", exclude_none=True)}


def booking_event(event_type: str, booking: Booking, *, suffix: str | None = None, **extra: Any) -> Envelope:
    """The envelope the owner of ``event_type`` publishes: the contract's deterministic id, the public view."""
    return Envelope(id=booking_event_id(booking.booking_id, event_type, suffix), source=BOOKINGS_SOURCE,
                    type=event_type, data={**public_view(booking), **extra})
