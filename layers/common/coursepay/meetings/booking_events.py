"""The ``coursepay.bookings`` domain events as the meetings consumer and the booking e-mails read them
(docs: the bookings contract): the detail-types, the deterministic envelope id, and ``BookedSession``, the
fields of the booking's public view (an event's ``data``) they use.

The lifecycle's ``Booking`` model (``coursepay.bookings.bookings``) is the owner of these fields; this view
reads only what it needs and ignores the rest, so a field added there breaks nothing here.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict

from coursepay.events.envelope import Envelope
from coursepay.meetings.interface import Meeting

BOOKINGS_SOURCE = "coursepay.bookings"
BOOKING_REQUESTED = "booking.requested"
BOOKING_CONFIRMED = "booking.confirmed"
BOOKING_DECLINED = "booking.declined"
BOOKING_EXPIRED = "booking.expired"
BOOKING_CANCELLED = "booking.cancelled"
BOOKING_PAID = "booking.paid"
BOOKING_REFUNDED = "booking.refunded"
BOOKING_MEETING_CREATED = "booking.meeting_created"
BOOKING_REMINDER_DUE = "booking.reminder_due"


class BookedSession(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")

    booking_id: str
    gig_id: str
    gig_title: str
    teacher_id: str
    student_id: str
    start: str  # ISO-8601 UTC, ...Z
    end: str
    duration_minutes: int
    time_zone: str  # the gig's (IANA)
    currency: str
    base_amount: int
    fee_amount: int
    total_amount: int
    status: str
    payment_status: str
    respond_by: str | None = None
    payment_due: str | None = None
    cancelled_by: str | None = None
    cancel_reason: str | None = None
    payment_intent_id: str | None = None
    refunded_amount: int = 0
    meeting: Meeting | None = None
    refund_amount: int | None = None  # booking.refunded only: this refund's amount


def booking_event_id(booking_id: str, event_type: str, suffix: str | None = None) -> str:
    """The contract's deterministic id: a replay of the same change is the same event."""
    return f"ev_booking_{booking_id}_{event_type}" + (f"_{suffix}" if suffix else "")


def booking_envelope(event_type: str, data: dict[str, Any], correlation_id: str | None = None) -> Envelope:
    return Envelope(id=booking_event_id(str(data["booking_id"]), event_type), source=BOOKINGS_SOURCE,
                    type=event_type, correlation_id=correlation_id, data=data)
