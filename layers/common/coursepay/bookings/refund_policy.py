"""The booking cancellation refund policy (docs/engineering.md, "Booking cancellation refunds"), and what a refund
or dispute of a booking's payment does to the booking (the kind's access policy in the billing core).

Who cancelled a paid booking, and when, decides the refund:

* the student, at least ``full_refund_hours`` before the start: the total (base + fee);
* the student, later: ``late_refund_percent`` % of the base (half-up to the minor unit); the fee is kept;
* the teacher, or an admin: the total, fee included.

The refund goes through the billing core's refund path, keyed ``booking-cancel-<booking id>`` (one refund per
cancellation, however often ``booking.cancelled`` is delivered). ``charge.refunded`` then brings the booking's
``refunded_amount`` and ``payment_status`` up to date, publishes ``booking.refunded`` and, when the teacher was
paid already, reverses the teacher's share of what was refunded. A dispute opened after the transfer reverses
the whole transfer: the platform answers for the charge, the teacher's share comes back until it is decided.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from coursepay.billing.money_events import DisputeState
from coursepay.billing.payments import Payment
from coursepay.bookings.bookings import Booking
from coursepay.bookings.events import BOOKING_REFUNDED, booking_envelope
from coursepay.bookings.payment_state import BookingPaymentState
from coursepay.bookings.teacher_transfers import TeacherTransfers
from coursepay.storage.audit import AuditEntry

if TYPE_CHECKING:
    from coursepay.billing.core import BillingCore
    from coursepay.settings import FulfilmentSettings


def _moment(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def cancellation_refund(booking: Booking, *, full_refund_hours: int, late_refund_percent: int) -> int:
    """What the policy refunds for ``booking`` as cancelled (``cancelled_by``, ``cancelled_at``), minor units."""
    if booking.cancelled_by in ("teacher", "admin", "system"):
        return booking.total_amount
    cancelled_at = _moment(booking.cancelled_at or booking.updated_at)
    if _moment(booking.start) - cancelled_at >= timedelta(hours=full_refund_hours):
        return booking.total_amount
    return (booking.base_amount * late_refund_percent + 50) // 100  # half-up to the minor unit


def teacher_share(booking: Booking, refunded_total: int) -> int:
    """The part of the teacher's base that ``refunded_total`` of the booking's total amounts to (rounded up)."""
    if booking.total_amount <= 0:
        return 0
    return min(booking.base_amount, -(-booking.base_amount * refunded_total // booking.total_amount))


class BookingAccessPolicy:
    """The booking kind's :class:`~coursepay.billing.money_events.AccessPolicy`: a booking grants no enrollment;
    a refund is recorded on the booking (and reverses the teacher's share), a dispute reverses the transfer."""

    def __init__(self, core: BillingCore, state: BookingPaymentState, transfers: TeacherTransfers) -> None:
        self._core = core
        self._state = state
        self._transfers = transfers

    def after_refund(self, payment: Payment, *, full: bool, actor: str, correlation_id: str | None) -> None:
        booking = self._state.bookings.get(payment.item_id)
        if booking is None or (booking.payment_id and booking.payment_id != payment.payment_id):
            return  # a duplicate or not-held payment's refund: the booking's own payment is untouched
        total = payment.refunded_amount
        booking, changed = self._state.update(
            booking.booking_id, lambda b: b.refunded_amount < total,
            lambda b: {"refunded_amount": total, "payment_status": "refunded" if full else "partially_refunded"})
        if booking.refunded_amount != total:
            return
        if changed:
            self._core.audit.record(AuditEntry(entity=f"booking#{booking.booking_id}", action="booking.refunded",
                                               actor=actor, after={"refunded_amount": total,
                                                                   "refund_amount": payment.last_refund_amount}))
        self._transfers.reverse(booking, teacher_share(booking, total), key=f"refunded-{total}", actor=actor)
        self._core.publish([booking_envelope(booking, BOOKING_REFUNDED, suffix=str(total),
                                             correlation_id=correlation_id,
                                             extra={"refund_amount": payment.last_refund_amount})])

    def after_dispute(self, payment: Payment, *, state: DisputeState, actor: str,
                      correlation_id: str | None) -> None:
        booking = self._state.bookings.get(payment.item_id)
        if booking is None or booking.payment_id != payment.payment_id:
            return
        if state == "open":
            self._transfers.reverse(booking, booking.base_amount, key=f"dispute-{payment.dispute_id}", actor=actor)
        self._core.audit.record(AuditEntry(entity=f"booking#{booking.booking_id}", action=f"booking.dispute_{state}",
                                           actor=actor, after={"dispute_id": payment.dispute_id,
                                                               "transfer_id": booking.transfer_id}))


def booking_access_policy(settings: FulfilmentSettings, core: BillingCore) -> BookingAccessPolicy:
    from coursepay.bookings.booking_repository import BookingsRepository
    from coursepay.bookings.payouts_repository import PayoutAccountsRepository

    state = BookingPaymentState(BookingsRepository(settings.bookings_table))
    transfers = TeacherTransfers(state, PayoutAccountsRepository(settings.bookings_table), core.audit, core.stripe)
    return BookingAccessPolicy(core, state, transfers)
