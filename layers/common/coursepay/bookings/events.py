"""Domain events of bookings (source ``coursepay.bookings``; docs/events.md envelope v1).

``data`` is the booking's public view. Ids are deterministic, ``ev_booking_<booking_id>_<type>`` (plus a suffix
where a type can repeat, e.g. a refund id), so publishing again after a retry yields the same id and every
consumer, which claims ``<consumer>#<event id>``, acts once. Lifecycle publishes requested, confirmed, declined,
expired, cancelled, completed and reminder_due; payments paid, payment_failed, refunded; meetings
meeting_created."""

from __future__ import annotations

from typing import Any

from coursepay.bookings.bookings import Booking, public_view
from coursepay.correlation import traced
from coursepay.events.envelope import Envelope

BOOKINGS_SOURCE = "coursepay.bookings"
BOOKING_REQUESTED = "booking.requested"
BOOKING_CONFIRMED = "booking.confirmed"
BOOKING_DECLINED = "booking.declined"
BOOKING_EXPIRED = "booking.expired"
BOOKING_CANCELLED = "booking.cancelled"
BOOKING_PAID = "booking.paid"
BOOKING_PAYMENT_FAILED = "booking.payment_failed"
BOOKING_COMPLETED = "booking.completed"
BOOKING_REFUNDED = "booking.refunded"
BOOKING_MEETING_CREATED = "booking.meeting_created"
BOOKING_REMINDER_DUE = "booking.reminder_due"


def booking_event_id(booking_id: str, event_type: str, suffix: str | None = None) -> str:
    """The deterministic id: a replay of the same change is the same event."""
    return f"ev_booking_{booking_id}_{event_type}" + (f"_{suffix}" if suffix else "")


def booking_envelope(booking: Booking, event_type: str, *, suffix: str | None = None,
                     extra: dict[str, Any] | None = None, correlation_id: str | None = None) -> Envelope:
    return Envelope(id=booking_event_id(booking.booking_id, event_type, suffix), source=BOOKINGS_SOURCE,
                    type=event_type, correlation_id=traced(correlation_id),
                    data={**public_view(booking), **(extra or {})})
