"""A booking of a gig: one student, one slot of the gig's teacher (docs/engineering.md, "Booking lifecycle").

``status`` is the lifecycle (pending -> confirmed -> completed, or declined / expired / cancelled);
``payment_status`` is the money (set by payments). Amounts are integer minor units computed on the server
(coursepay.bookings.quote). Times are ISO-8601 UTC text (coursepay.clock.iso_time), so they sort as they
compare."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from coursepay.identity import Principal

BookingStatus = Literal["pending", "confirmed", "declined", "expired", "cancelled", "completed"]
PaymentStatus = Literal["unpaid", "processing", "paid", "failed", "refunded", "partially_refunded"]
CancelledBy = Literal["student", "teacher", "admin", "system"]

# A booking in one of these holds its slot of the teacher's calendar; the others have let it go.
LIVE_STATUSES: frozenset[BookingStatus] = frozenset({"pending", "confirmed", "completed"})
# Slot grid: every start is on a quarter hour (UTC, hence also in every zone with a whole-quarter offset)
# and every offered duration is a multiple of it, so two bookings overlap exactly when they share a slot.
SLOT_MINUTES = 15


class Meeting(BaseModel):
    provider: str
    meeting_id: str
    join_url: str
    host_url: str | None = None


class Booking(BaseModel):
    model_config = ConfigDict(extra="forbid")  # a misspelt change is an error, not a silently dropped field

    booking_id: str  # bk_<hex>
    gig_id: str
    gig_title: str
    teacher_id: str
    student_id: str
    start: str
    end: str
    duration_minutes: int
    time_zone: str  # the gig's, for e-mails
    currency: str
    base_amount: int
    fee_amount: int
    total_amount: int
    status: BookingStatus = "pending"
    payment_status: PaymentStatus = "unpaid"
    requested_at: str
    respond_by: str  # an unanswered request expires then
    confirmed_at: str | None = None
    payment_due: str | None = None  # set at confirm: a confirmed booking unpaid by then is cancelled
    completed_at: str | None = None
    cancelled_at: str | None = None
    cancelled_by: CancelledBy | None = None
    cancel_reason: str | None = None
    payment_id: str | None = None
    payment_intent_id: str | None = None
    refunded_amount: int = 0
    transfer_id: str | None = None
    transfer_reversed: bool = False
    meeting: Meeting | None = None
    problem_reported: bool = False
    problem_reported_at: str | None = None
    problem_description: str | None = None
    remind_at: str | None = None  # when booking.reminder_due is emitted for a paid booking
    reminder_sent_at: str | None = None
    auto_complete_at: str | None = None  # a paid booking completes then unless a problem was reported
    version: int = Field(default=1, ge=1)  # every write is conditional on the version read
    created_at: str
    updated_at: str

    @property
    def live(self) -> bool:
        return self.status in LIVE_STATUSES


class BookingPage(BaseModel):
    items: list[Booking]
    next_cursor: str | None = None


def public_view(booking: Booking) -> dict[str, Any]:
    """What the API returns and the domain events carry: every field but the write version."""
    return booking.model_dump(mode="json", exclude={"version"})


def view_for(booking: Booking, viewer: Principal) -> dict[str, Any]:
    """The booking as ``viewer`` may see it through the API: the meeting's host link (Zoom's ``start_url``
    starts the meeting as its host) only for the teacher and admins."""
    view = public_view(booking)
    meeting = view.get("meeting")
    if meeting and viewer.user_id != booking.teacher_id and not viewer.is_admin:
        meeting.pop("host_url", None)
    return view


def due_at(booking: Booking) -> str | None:
    """When the scheduler next has something to do with ``booking`` (None: nothing, ever or until another
    write). Pending: the request expires. Confirmed and unpaid (or failed, still payable): the payment deadline.
    A payment in flight (``processing``) is left alone: payments moves it on. Paid: the reminder, then the
    auto-completion (none after a reported problem: an admin decides)."""
    if booking.status == "pending":
        return booking.respond_by
    if booking.status != "confirmed":
        return None
    if booking.payment_status in ("unpaid", "failed"):
        return booking.payment_due
    if booking.payment_status != "paid":
        return None
    upcoming = []
    if booking.remind_at and not booking.reminder_sent_at:
        upcoming.append(booking.remind_at)
    if booking.auto_complete_at and not booking.problem_reported:
        upcoming.append(booking.auto_complete_at)
    return min(upcoming) if upcoming else None
