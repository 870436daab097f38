"""What payments does when the lifecycle ends a booking (its domain events, dispatched by type in the fulfilment
consumer): ``booking.completed`` -> the teacher's Transfer (``coursepay.bookings.teacher_transfers``);
``booking.cancelled`` of a paid booking -> the policy's refund (``coursepay.bookings.refund_policy``). Both are
keyed by the booking, so a redelivered event changes nothing."""

from __future__ import annotations

from typing import TYPE_CHECKING

from coursepay.bookings.payment_state import BookingPaymentState
from coursepay.bookings.refund_policy import cancellation_refund
from coursepay.bookings.teacher_transfers import TeacherTransfers
from coursepay.events.envelope import Envelope
from coursepay.events.handlers import EnvelopeHandler
from coursepay.observability import logger

if TYPE_CHECKING:
    from coursepay.billing.core import BillingCore
    from coursepay.settings import FulfilmentSettings

REFUNDABLE_PAYMENT_STATES = frozenset({"paid", "partially_refunded"})


class BookingSettlement:
    def __init__(self, core: BillingCore, state: BookingPaymentState, transfers: TeacherTransfers, *,
                 full_refund_hours: int, late_refund_percent: int) -> None:
        self._core = core
        self._state = state
        self._transfers = transfers
        self._full_refund_hours = full_refund_hours
        self._late_refund_percent = late_refund_percent

    def handlers(self) -> dict[str, EnvelopeHandler]:
        return {"booking.completed": self.on_completed, "booking.cancelled": self.on_cancelled}

    @staticmethod
    def _booking_id(envelope: Envelope) -> str:
        return str(envelope.data["booking_id"])

    def on_completed(self, envelope: Envelope) -> None:
        self._transfers.transfer(self._booking_id(envelope), f"event:{envelope.id}")

    def on_cancelled(self, envelope: Envelope) -> None:
        booking = self._state.require(self._booking_id(envelope))
        if booking.status != "cancelled" or booking.payment_status not in REFUNDABLE_PAYMENT_STATES:
            logger.info("nothing to refund for this cancellation", booking_id=booking.booking_id,
                        payment_status=booking.payment_status)
            return
        payment = self._core.ledger.payments.get(booking.payment_id or "")
        if payment is None:
            raise LookupError(f"booking {booking.booking_id} is paid by an unknown payment {booking.payment_id}")
        amount = min(cancellation_refund(booking, full_refund_hours=self._full_refund_hours,
                                         late_refund_percent=self._late_refund_percent),
                     payment.amount - payment.refunded_amount)
        if amount <= 0:
            return
        self._core.refunds.refund(payment, amount, key=f"booking-cancel-{booking.booking_id}",
                                  actor=f"event:{envelope.id}", reason="requested_by_customer",
                                  metadata={"booking_id": booking.booking_id,
                                            "cancelled_by": booking.cancelled_by or "unknown"})


def booking_settlement(settings: FulfilmentSettings, core: BillingCore) -> BookingSettlement:
    from coursepay.bookings.booking_repository import BookingsRepository
    from coursepay.bookings.payouts_repository import PayoutAccountsRepository

    state = BookingPaymentState(BookingsRepository(settings.bookings_table))
    return BookingSettlement(core, state, TeacherTransfers(state, PayoutAccountsRepository(settings.bookings_table),
                                                           core.audit, core.stripe),
                             full_refund_hours=settings.booking_full_refund_hours,
                             late_refund_percent=settings.booking_late_refund_percent)
