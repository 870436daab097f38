"""The bookings product kind in the fulfilment consumer (``coursepay.consumers.fulfilment.product_kinds``): the
Stripe events of a booking's payment (``metadata.kind=booking``) make the booking paid, or keep it payable.

* ``payment_intent.succeeded`` of a saved-card payment, ``checkout.session.completed`` of a hosted one: the
  ledger records the success, the booking becomes ``paid`` (with its payment, the reminder and auto-completion
  times) and ``booking.paid`` is published (the meeting, the e-mails). Once per payment (a claim).
* a payment that succeeds for a booking paid by another payment (a hosted page and a saved card both used) is
  refunded as a duplicate by the core; one for a booking no longer held (cancelled at its payment deadline
  meanwhile) is refunded in full.
* ``payment_intent.payment_failed``: the ledger's failure, the booking ``failed`` (still payable until its
  deadline, then the lifecycle's scheduler cancels it), ``booking.payment_failed`` once per attempt. A late
  failure of an earlier attempt never undoes ``paid`` (``coursepay.bookings.payment_state``).

Hosted payments' PaymentIntents carry ``channel=checkout``: their events are left to the session's, except a
declined attempt, which the core's ``attempts`` records.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from functools import partial
from typing import TYPE_CHECKING, Any

from coursepay.billing.attempts import failure_reason
from coursepay.billing.core import BillingCore
from coursepay.billing.payments import Payment
from coursepay.bookings.booking_payments import KIND, item_name
from coursepay.bookings.bookings import Booking
from coursepay.bookings.events import BOOKING_PAID, BOOKING_PAYMENT_FAILED, booking_envelope
from coursepay.bookings.payment_state import BookingPaymentState
from coursepay.clock import iso_time
from coursepay.errors import InvalidRequest
from coursepay.events.envelope import Envelope
from coursepay.events.handlers import EnvelopeHandler, KindHandlers, stripe_object
from coursepay.observability import logger
from coursepay.storage.audit import AuditEntry
from coursepay.storage.idempotency import IdempotencyStore
from coursepay.stripe_gateway.ids import id_of

if TYPE_CHECKING:
    from coursepay.bookings.refund_policy import BookingAccessPolicy
    from coursepay.settings import FulfilmentSettings

PAYABLE_PAYMENT_STATES = frozenset({"unpaid", "failed", "processing"})


def _actor(envelope: Envelope) -> str:
    return f"stripe:{envelope.id}"


def _metadata(obj: dict[str, Any]) -> dict[str, str]:
    metadata = obj.get("metadata")
    return {str(k): str(v) for k, v in metadata.items()} if isinstance(metadata, dict) else {}



def _shifted(moment: str, hours: int) -> str:
    return iso_time(datetime.fromisoformat(moment.replace("Z", "+00:00")) + timedelta(hours=hours))


class BookingFulfilment:
    def __init__(self, *, core: BillingCore, state: BookingPaymentState, claims: IdempotencyStore,
                 reminder_hours: int, auto_complete_hours: int) -> None:
        self._core = core
        self._ledger = core.ledger
        self._state = state
        self._claims = claims
        self._reminder_hours = reminder_hours
        self._auto_complete_hours = auto_complete_hours

    def handlers(self) -> dict[tuple[str, str], EnvelopeHandler]:
        return {
            ("payment_intent.succeeded", KIND): self.on_intent_succeeded,
            ("payment_intent.payment_failed", KIND): self.on_intent_failed,
            ("payment_intent.canceled", KIND): self.on_intent_canceled,
            ("checkout.session.completed", KIND): self.on_session_completed,
            ("checkout.session.expired", KIND): self.on_session_expired,
        }

    # ------------------------------------------------------------------------------------ PaymentIntents
    def _payment_for_intent(self, intent: dict[str, Any], envelope: Envelope) -> Payment:
        """Our record of the PaymentIntent; rebuilt from its metadata if the API crashed before storing it."""
        payment = self._ledger.payments.get(intent["id"])
        if payment is not None:
            return payment
        metadata = _metadata(intent)
        if not metadata.get("user_id") or not metadata.get("booking_id"):
            raise InvalidRequest(f"PaymentIntent {intent['id']} has no user_id/booking_id metadata")
        booking = self._state.bookings.get(metadata["booking_id"])
        payment = Payment(payment_id=intent["id"], user_id=metadata["user_id"], kind=KIND,
                          item_id=metadata["booking_id"], item_name=item_name(booking) if booking else None,
                          amount=int(intent["amount"]), currency=str(intent["currency"]),
                          stripe_customer_id=id_of(intent.get("customer")), stripe_payment_intent_id=intent["id"])
        self._ledger.record(payment, _actor(envelope), action="payment.recorded_from_event")
        return payment

    @staticmethod
    def _direct(intent: dict[str, Any]) -> bool:
        return _metadata(intent).get("channel", "payment_intent") == "payment_intent"

    def on_intent_succeeded(self, envelope: Envelope) -> None:
        intent = stripe_object(envelope)
        if self._direct(intent):
            self._settle(self._payment_for_intent(intent, envelope).payment_id, envelope, intent["id"])

    def on_intent_failed(self, envelope: Envelope) -> None:
        intent = stripe_object(envelope)
        if not self._direct(intent):
            self._core.attempts.on_intent_failed(envelope)  # a declined try on the hosted page
            payment = self._core.attempts.payment_of_intent(str(intent["id"]))
        else:
            payment = self._payment_for_intent(intent, envelope)
            payment = self._ledger.failed(payment.payment_id, _actor(envelope), failure_reason(intent),
                                          correlation_id=envelope.id)
        if payment is not None:
            self._failed(payment, failure_reason(intent), envelope)

    def on_intent_canceled(self, envelope: Envelope) -> None:
        intent = stripe_object(envelope)
        if self._direct(intent):
            self._ledger.canceled(self._payment_for_intent(intent, envelope).payment_id, _actor(envelope))

    # ------------------------------------------------------------------------------------ Checkout Sessions
    def on_session_completed(self, envelope: Envelope) -> None:
        session = stripe_object(envelope)
        payment = self._ledger.payments.get(session["id"])
        if payment is None:
            logger.warning("completed checkout of an unknown booking payment", session_id=session["id"])
            return
        intent_id = id_of(session.get("payment_intent"))
        if intent_id and payment.stripe_payment_intent_id != intent_id:
            payment = self._ledger.link_payment_intent(payment.payment_id, intent_id, _actor(envelope))
        if session.get("payment_status") == "paid":
            self._settle(payment.payment_id, envelope, intent_id)
        else:
            self._ledger.awaiting(payment.payment_id, _actor(envelope))

    def on_session_expired(self, envelope: Envelope) -> None:
        session = stripe_object(envelope)
        if self._ledger.payments.get(session["id"]) is not None:
            self._ledger.canceled(session["id"], _actor(envelope))

    # ------------------------------------------------------------------------------------ outcomes
    def _settle(self, payment_id: str, envelope: Envelope, payment_intent_id: str | None) -> None:
        self._claims.run_once(f"booking-fulfilment#{payment_id}",
                              partial(self._paid, payment_id, envelope, payment_intent_id),
                              details={"payment_id": payment_id, "event_id": envelope.id})

    def _paid(self, payment_id: str, envelope: Envelope, payment_intent_id: str | None) -> None:
        actor = _actor(envelope)
        payment = self._ledger.require(payment_id)
        payment = self._ledger.succeeded(payment_id, actor, user_id=payment.user_id or "",
                                         payment_intent_id=payment_intent_id, correlation_id=envelope.id)
        if payment.status not in ("succeeded", "partially_refunded"):
            logger.warning("payment not completable", payment_id=payment_id, status=payment.status)
            return
        booking, changed = self._state.update(
            payment.item_id, lambda b: b.payment_status in PAYABLE_PAYMENT_STATES,
            lambda b: self._paid_changes(b, payment), statuses=("confirmed",))
        if booking.payment_id == payment_id and booking.payment_status != "unpaid":
            if changed:
                self._core.audit.record(AuditEntry(entity=f"booking#{booking.booking_id}", action="booking.paid",
                                                   actor=actor, after={"payment_id": payment_id,
                                                                       "amount": payment.amount}))
            self._core.publish([booking_envelope(booking, BOOKING_PAID, correlation_id=envelope.id)])
        elif booking.payment_id is not None and booking.payment_status != "unpaid":
            self._core.duplicates.refund(payment, owned_through=booking.payment_id, actor=actor,
                                         correlation_id=envelope.id)
        else:  # no longer held (expired at its deadline, cancelled): the money goes back
            logger.warning("payment for a booking no longer payable: refunded", booking_id=booking.booking_id,
                           status=booking.status)
            self._core.refunds.refund(payment, payment.amount, key=f"booking-not-held-{payment_id}", actor=actor,
                                      reason="requested_by_customer",
                                      metadata={"booking_id": booking.booking_id, "why": f"booking {booking.status}"})
        self._ledger.settled(payment_id)

    def _paid_changes(self, booking: Booking, payment: Payment) -> dict[str, Any]:
        return {"payment_status": "paid", "payment_id": payment.payment_id,
                "payment_intent_id": payment.stripe_payment_intent_id,
                "remind_at": _shifted(booking.start, -self._reminder_hours),
                "auto_complete_at": _shifted(booking.end, self._auto_complete_hours)}

    def _failed(self, payment: Payment, reason: str, envelope: Envelope) -> None:
        booking, changed = self._state.update(
            payment.item_id, lambda b: b.payment_status in ("unpaid", "failed"),
            lambda b: {"payment_status": "failed"}, statuses=("confirmed",))
        if booking.payment_status != "failed":
            return  # paid meanwhile, or no longer payable: nothing to tell
        if changed:
            self._core.audit.record(AuditEntry(entity=f"booking#{booking.booking_id}", action="booking.payment_failed",
                                               actor=_actor(envelope), after={"payment_id": payment.payment_id,
                                                                              "reason": reason[:200]}))
        self._core.publish([booking_envelope(booking, BOOKING_PAYMENT_FAILED, suffix=envelope.id,
                                             correlation_id=envelope.id, extra={"failure_reason": reason[:500]})])


def build(settings: FulfilmentSettings, core: BillingCore) -> BookingFulfilment:
    from coursepay.bookings.booking_repository import BookingsRepository
    from coursepay.bookings.settings import BookingRulesSettings
    from coursepay.settings import load_settings

    rules = load_settings(BookingRulesSettings)  # the lifecycle's REMINDER_HOURS and AUTO_COMPLETE_HOURS
    return BookingFulfilment(core=core, state=BookingPaymentState(BookingsRepository(settings.bookings_table)),
                             claims=IdempotencyStore(settings.idempotency_table),
                             reminder_hours=rules.reminder_hours, auto_complete_hours=rules.auto_complete_hours)


def handlers(settings: FulfilmentSettings, core: BillingCore) -> KindHandlers:
    """Registered in coursepay.consumers.fulfilment.product_kinds()."""
    return build(settings, core).handlers()


def access_policy(settings: FulfilmentSettings, core: BillingCore) -> BookingAccessPolicy:
    from coursepay.bookings.refund_policy import booking_access_policy

    return booking_access_policy(settings, core)
