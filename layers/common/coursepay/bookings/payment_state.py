"""Payments' writes to a booking: its ``payment_status`` and the money fields, through the lifecycle's repository.

The repository's transitions check the lifecycle ``status``; the payment status is checked here, on the version
read (a conditional write, retried on a fresh read when another write came between): a late failure of an
earlier attempt never turns ``paid`` back into ``failed``, and a refund only ever raises ``refunded_amount``."""

from __future__ import annotations

from collections.abc import Callable, Collection
from typing import Any

from coursepay.bookings.booking_repository import BookingsRepository
from coursepay.bookings.bookings import Booking, BookingStatus
from coursepay.errors import ConditionFailed, NotFound

ANY_STATUS: tuple[BookingStatus, ...] = ("pending", "confirmed", "declined", "expired", "cancelled", "completed")
RETRIES = 5


class BookingPaymentState:
    def __init__(self, bookings: BookingsRepository) -> None:
        self.bookings = bookings

    def require(self, booking_id: str) -> Booking:
        booking = self.bookings.get(booking_id)
        if booking is None:
            raise NotFound(f"no booking {booking_id}", field="bookingId")
        return booking

    def update(self, booking_id: str, applies: Callable[[Booking], bool], changes: Callable[[Booking], dict[str, Any]],
               *, statuses: Collection[str] = ANY_STATUS) -> tuple[Booking, bool]:
        """Write ``changes(booking)`` while ``applies(booking)`` holds; (the booking, whether this call wrote it)."""
        for _ in range(RETRIES):
            booking = self.require(booking_id)
            if booking.status not in statuses or not applies(booking):
                return booking, False
            try:
                return self.bookings.transition(booking_id, statuses, changes(booking),
                                                expected_version=booking.version), True
            except ConditionFailed:
                continue  # written meanwhile: decide again on what it is now
        raise ConditionFailed(f"booking {booking_id} kept changing while its payment was recorded")
