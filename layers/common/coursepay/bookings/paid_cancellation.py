"""Cancelling a paid booking (the lifecycle's ``paid_cancellation`` hook of ``POST /bookings/{id}/cancel``): the
cancellation is written and published like any other (``booking.cancelled``, audited); the refund follows from
that event in the fulfilment consumer, by the policy (``coursepay.bookings.settlement``,
``coursepay.bookings.refund_policy``), so a request that fails after the write still refunds, and once."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from coursepay.bookings.booking_repository import BookingsRepository
from coursepay.bookings.booking_views import CancelledBy
from coursepay.bookings.bookings import Booking
from coursepay.bookings.events import BOOKING_CANCELLED
from coursepay.bookings.recorder import BookingRecorder
from coursepay.clock import iso_time, utc_now
from coursepay.errors import ConditionFailed, Conflict
from coursepay.identity import Principal

PAID = frozenset({"paid", "partially_refunded"})


class PaidCancellations:
    def __init__(self, bookings: BookingsRepository, recorder: BookingRecorder, *,
                 clock: Callable[[], datetime] = utc_now) -> None:
        self._bookings = bookings
        self._recorder = recorder
        self._clock = clock

    def __call__(self, principal: Principal, booking: Booking, by: CancelledBy, reason: str | None) -> Booking:
        # an admin may also cancel a session that took place (a refund after the transfer reverses it)
        cancellable = ("confirmed", "completed") if by == "admin" else ("confirmed",)
        if booking.status not in cancellable or booking.payment_status not in PAID:
            raise Conflict(f"a {booking.status} booking ({booking.payment_status}) cannot be cancelled with a refund",
                           field="bookingId")
        changes = {"status": "cancelled", "cancelled_at": iso_time(self._clock()), "cancelled_by": by,
                   "cancel_reason": reason}
        try:
            updated = self._bookings.transition(booking.booking_id, [booking.status], changes,
                                                expected_version=booking.version)
        except ConditionFailed:
            current = self._bookings.get(booking.booking_id)
            if current is not None and current.status == "cancelled":
                return current  # cancelled concurrently: one cancellation, one refund
            raise Conflict("the booking changed meanwhile; read it again and retry", field="bookingId") from None
        self._recorder.record(BOOKING_CANCELLED, updated, actor=f"user:{principal.user_id}", before=booking)
        return updated
