"""The booking domain events payments publishes (source ``coursepay.bookings``, envelope v1; the shared contract):
``booking.paid``, ``booking.payment_failed`` (once per failed attempt), ``booking.refunded`` (once per refunded
total, with ``refund_amount``). Ids are deterministic (``ev_booking_<booking id>_<type>[_<suffix>]``): publishing
again after a retry yields the same id, and every consumer acts once."""

from __future__ import annotations

from coursepay.bookings.bookings import Booking, public_view
from coursepay.events.envelope import Envelope

BOOKINGS_SOURCE = "coursepay.bookings"
BOOKING_PAID = "booking.paid"
BOOKING_PAYMENT_FAILED = "booking.payment_failed"
BOOKING_REFUNDED = "booking.refunded"


def booking_envelope(booking: Booking, event_type: str, *, suffix: str | None = None,
                     correlation_id: str | None = None, **extra: object) -> Envelope:
    event_id = f"ev_booking_{booking.booking_id}_{event_type}" + (f"_{suffix}" if suffix else "")
    return Envelope(id=event_id, source=BOOKINGS_SOURCE, type=event_type, correlation_id=correlation_id,
                    data={**public_view(booking), **extra})
