"""What the bookings API shows of a booking and of its payment (``@responds`` sends and checks these). The stored
``coursepay.bookings.bookings.Booking`` extends ``BookingView`` with its write version."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, RootModel

from coursepay.views import PublicView

BookingStatus = Literal["pending", "confirmed", "declined", "expired", "cancelled", "completed"]
PaymentStatus = Literal["unpaid", "processing", "paid", "failed", "refunded", "partially_refunded"]
CancelledBy = Literal["student", "teacher", "admin", "system"]


class MeetingView(PublicView):
    """The meeting as its student sees it."""

    provider: str
    meeting_id: str
    join_url: str


class HostMeetingView(MeetingView):
    """The meeting as its teacher and admins see it: with the host link (None: the provider has none)."""

    host_url: str | None


class BookingView(PublicView):
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
    meeting: HostMeetingView | MeetingView | None = None
    problem_reported: bool = False
    problem_reported_at: str | None = None
    problem_description: str | None = None
    remind_at: str | None = None  # when booking.reminder_due is emitted for a paid booking
    reminder_sent_at: str | None = None
    auto_complete_at: str | None = None  # a paid booking completes then unless a problem was reported
    created_at: str
    updated_at: str


class IntentPaymentView(PublicView):
    """A saved card's payment: the PaymentIntent to confirm in the browser (``next_action`` for 3-D Secure)."""

    payment_intent_id: str
    status: str
    client_secret: str | None
    next_action: dict[str, Any] | None = Field(default=None, description="Stripe's, when status is requires_action")


class HostedPaymentView(PublicView):
    """The hosted page's payment: the Checkout Session to send the student to."""

    checkout_url: str | None
    session_id: str


class BookingPaymentView(RootModel[IntentPaymentView | HostedPaymentView]):
    """``POST /bookings/{bookingId}/pay``: the saved card's PaymentIntent or the hosted page's session."""
