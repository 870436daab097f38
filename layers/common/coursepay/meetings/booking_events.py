"""``BookedSession``: the fields of a ``coursepay.bookings`` event's ``data`` (the booking's public view) that the
meetings consumer and the booking e-mails use. The event types and ids are ``coursepay.bookings.events``.

The lifecycle's ``Booking`` model (``coursepay.bookings.bookings``) is the owner of these fields; this view
reads only what it needs and ignores the rest, so a field added there breaks nothing here.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from coursepay.meetings.interface import Meeting


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
