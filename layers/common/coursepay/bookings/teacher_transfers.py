"""The teacher's share of a booking (docs/decisions.md, "Separate charges and transfers for bookings"): once the
booking is completed, a Transfer of exactly its ``base_amount`` to the teacher's connected account, funded by the
booking's charge (``source_transaction``), in the booking's ``transfer_group``; the platform keeps the fee.

Once per booking: the Stripe call carries ``booking-transfer-<booking id>`` as idempotency key and the transfer id
is recorded on the booking (conditional on the version read). A refund after the transfer reverses the teacher's
share of what was refunded, a dispute opened after it reverses the whole transfer (``reverse``), each reversal
keyed by what caused it."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from coursepay.bookings.bookings import Booking
from coursepay.bookings.payment_state import BookingPaymentState
from coursepay.bookings.payouts_repository import PayoutAccountsRepository
from coursepay.errors import Conflict
from coursepay.observability import logger
from coursepay.storage.audit import AuditEntry, AuditTrail
from coursepay.stripe_gateway.errors import stripe_errors
from coursepay.stripe_gateway.ids import id_of

if TYPE_CHECKING:
    import stripe

TRANSFERABLE_PAYMENT_STATES = frozenset({"paid", "partially_refunded"})


class TeacherTransfers:
    def __init__(self, state: BookingPaymentState, payout_accounts: PayoutAccountsRepository, audit: AuditTrail,
                 stripe_client: Callable[[], stripe.StripeClient]) -> None:
        self._state = state
        self._accounts = payout_accounts
        self._audit = audit
        self._stripe = stripe_client

    def transfer(self, booking_id: str, actor: str) -> Booking:
        """The base amount to the teacher, once; a booking not completed, not paid or fully refunded gets none."""
        booking = self._state.require(booking_id)
        if booking.transfer_id or booking.status != "completed" or booking.payment_status not in \
                TRANSFERABLE_PAYMENT_STATES or not booking.payment_intent_id:
            logger.info("no transfer for this booking", booking_id=booking_id, status=booking.status,
                        payment_status=booking.payment_status, transfer_id=booking.transfer_id)
            return booking
        account = self._accounts.get(booking.teacher_id)
        if account is None:
            raise Conflict(f"teacher {booking.teacher_id} has no payout account: booking {booking_id} not paid out")
        client = self._stripe()
        with stripe_errors("read the booking's charge"):
            charge_id = id_of(client.v1.payment_intents.retrieve(booking.payment_intent_id).latest_charge)
        with stripe_errors("transfer the teacher's share"):
            transfer = client.v1.transfers.create(
                params={"amount": booking.base_amount, "currency": booking.currency,
                        "destination": account.account_id, "transfer_group": booking.booking_id,
                        "source_transaction": charge_id or "",
                        "description": f"Booking {booking.booking_id}: {booking.gig_title}",
                        "metadata": {"kind": "booking", "booking_id": booking.booking_id,
                                     "teacher_id": booking.teacher_id}},
                options={"idempotency_key": f"booking-transfer-{booking.booking_id}"})
        booking, changed = self._state.update(booking_id, lambda b: b.transfer_id is None,
                                              lambda b: {"transfer_id": transfer.id}, statuses=("completed",))
        if changed:
            self._audit.record(AuditEntry(entity=f"booking#{booking_id}", action="booking.transferred", actor=actor,
                                          after={"transfer_id": transfer.id, "amount": transfer.amount,
                                                 "destination": account.account_id, "source_transaction": charge_id}))
        return booking

    def reverse(self, booking: Booking, amount: int, *, key: str, actor: str) -> None:
        """Take back up to ``amount`` of the booking's transfer (what is left of it, at most)."""
        if not booking.transfer_id or booking.transfer_reversed:
            return
        client = self._stripe()
        with stripe_errors("read the teacher's transfer"):
            transfer = client.v1.transfers.retrieve(booking.transfer_id)
        remaining = int(transfer.amount) - int(transfer.amount_reversed or 0)
        amount = min(amount, remaining)
        if amount > 0 and not self._reversed_for(booking.transfer_id, key):
            with stripe_errors("reverse the teacher's transfer"):
                reversal = client.v1.transfers.reversals.create(
                    booking.transfer_id, params={"amount": amount, "metadata": {"booking_id": booking.booking_id,
                                                                                "reason": key}},
                    options={"idempotency_key": f"booking-reversal-{booking.booking_id}-{key}"[:255]})
            self._audit.record(AuditEntry(entity=f"booking#{booking.booking_id}", action="booking.transfer_reversed",
                                          actor=actor, after={"transfer_id": booking.transfer_id,
                                                              "reversal_id": reversal.id, "amount": amount,
                                                              "reason": key}))
            remaining -= amount
        if remaining <= 0:
            self._state.update(booking.booking_id, lambda b: not b.transfer_reversed,
                               lambda b: {"transfer_reversed": True})


    def _reversed_for(self, transfer_id: str, key: str) -> bool:
        """A redelivered cause finds its reversal made (the amount left may differ now: no second one)."""
        with stripe_errors("list the transfer's reversals"):
            reversals = self._stripe().v1.transfers.reversals.list(transfer_id, params={"limit": 100})
        return any(reversal.metadata is not None and reversal.metadata.to_dict().get("reason") == key
                   for reversal in reversals.data)
