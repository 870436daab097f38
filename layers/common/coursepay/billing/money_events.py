"""Stripe events about money that carry no product kind, for every kind: ``charge.refunded``,
``refund.updated``, ``charge.dispute.created``, ``charge.dispute.closed``.

They are dispatched by event type (not by ``metadata.kind``, which charges and disputes need not carry),
resolved to the payment through its PaymentIntent, applied to the ledger, and then handed to the access
policy of the payment's product kind. An event whose payment is not known yet is parked
(``coursepay.billing.parking``) and applied when the payment is linked to its PaymentIntent, so nothing
depends on the queue's retry window or its DLQ.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Literal, Protocol

from coursepay.billing.access import AccessChanges
from coursepay.billing.ledger import PAID_STATES, PaymentLedger
from coursepay.billing.parking import ParkedEvents
from coursepay.billing.payments import Payment
from coursepay.events.envelope import Envelope
from coursepay.events.handlers import EnvelopeHandler, stripe_object
from coursepay.observability import logger
from coursepay.storage.audit import AuditEntry, AuditTrail

DisputeState = Literal["open", "won", "lost"]
WON_DISPUTE_STATES = frozenset({"won", "warning_closed"})


class AccessPolicy(Protocol):
    """What a product kind does to access after its payment is refunded or disputed."""

    def after_refund(self, payment: Payment, *, full: bool, actor: str, correlation_id: str | None) -> None: ...

    def after_dispute(self, payment: Payment, *, state: DisputeState, actor: str,
                      correlation_id: str | None) -> None: ...


class StandardAccessPolicy:
    """docs/engineering.md policy table: a full refund withdraws, a partial keeps; an open dispute suspends,
    a won one restores, a lost one withdraws."""

    def __init__(self, access: AccessChanges) -> None:
        self.access = access

    def after_refund(self, payment: Payment, *, full: bool, actor: str, correlation_id: str | None) -> None:
        if full:
            self.access.withdraw(payment, actor, "refunded")

    def after_dispute(self, payment: Payment, *, state: DisputeState, actor: str,
                      correlation_id: str | None) -> None:
        if state == "open":
            self.access.suspend(payment, actor)
        elif state == "won":
            self.access.restore(payment, actor)
        else:
            self.access.withdraw(payment, actor, "dispute_lost")


def _id_of(value: Any) -> str | None:
    if isinstance(value, dict):
        return str(value["id"]) if value.get("id") else None
    return str(value) if value else None


def _actor(envelope: Envelope) -> str:
    return f"stripe:{envelope.id}"


class MoneyEvents:
    def __init__(self, ledger: PaymentLedger, parked: ParkedEvents, audit: AuditTrail,
                 policies: Mapping[str, AccessPolicy], default_policy: AccessPolicy) -> None:
        self._ledger = ledger
        self._payments = ledger.payments
        self._parked = parked
        self._audit = audit
        self._policies = dict(policies)
        self._default = default_policy
        ledger.on_settled = self.payment_known

    def handlers(self) -> dict[str, EnvelopeHandler]:
        return {event_type: self.on_event for event_type in self._appliers()}

    def _appliers(self) -> dict[str, Callable[[Payment, Envelope], bool]]:
        return {
            "charge.refunded": self._refunded,
            "refund.updated": self._refund_updated,
            "charge.dispute.created": self._dispute_created,
            "charge.dispute.closed": self._dispute_closed,
        }

    def _policy(self, payment: Payment) -> AccessPolicy:
        return self._policies.get(payment.kind, self._default)

    # ------------------------------------------------------------------ resolving and parking
    def on_event(self, envelope: Envelope) -> None:
        """Apply the event to its payment, or park it until the payment is known and paid."""
        apply = self._appliers()[envelope.type]
        intent_id = _id_of(stripe_object(envelope).get("payment_intent"))
        if not intent_id:
            logger.warning("money event without a payment intent", event_id=envelope.id, event_type=envelope.type)
            return
        payment = self._payments.by_payment_intent(intent_id)
        if payment is not None and apply(payment, envelope):
            return
        self._parked.park(intent_id, envelope)
        logger.info("event parked until its payment is known", event_id=envelope.id, payment_intent=intent_id)
        # The payment may have been recorded between the look-up and the park: then nobody else drains it.
        payment = self._payments.by_payment_intent(intent_id)
        if payment is not None:
            self._drain(payment)

    def payment_known(self, payment: Payment) -> None:
        """Called by the ledger once a kind has settled a payment (``PaymentLedger.settled``): apply what waited."""
        self._drain(payment)

    def _drain(self, payment: Payment) -> None:
        intent_id = payment.stripe_payment_intent_id
        if not intent_id:
            return
        appliers = self._appliers()
        for envelope in self._parked.waiting_for(intent_id):
            current = self._payments.get(payment.payment_id) or payment
            if envelope.type not in appliers or appliers[envelope.type](current, envelope):
                logger.info("parked event applied", event_id=envelope.id, payment_id=payment.payment_id)
                self._parked.release(intent_id, envelope.id)

    # ------------------------------------------------------------------ refunds
    def _refunded(self, payment: Payment, envelope: Envelope) -> bool:
        if payment.status not in PAID_STATES:
            return False  # refunded before our record of its success: applied once that is recorded
        charge = stripe_object(envelope)
        payment, _ = self._ledger.refunded(payment.payment_id, _actor(envelope),
                                           amount_refunded=int(charge.get("amount_refunded") or 0),
                                           correlation_id=envelope.id)
        self._policy(payment).after_refund(payment, full=payment.status == "refunded", actor=_actor(envelope),
                                           correlation_id=envelope.id)
        return True

    def _refund_updated(self, payment: Payment, envelope: Envelope) -> bool:
        """A refund that failed or was canceled gives the money back to the payment at Stripe; the ledger only
        moves forward, so this is recorded for a person to look at (docs/engineering.md, refund policy)."""
        refund = stripe_object(envelope)
        if refund.get("status") in ("failed", "canceled"):
            self._audit.record(AuditEntry(
                entity=f"payment#{payment.payment_id}", action=f"refund.{refund['status']}", actor=_actor(envelope),
                after={"refund_id": refund.get("id"), "amount": refund.get("amount"),
                       "failure_reason": refund.get("failure_reason")}))
            logger.warning("refund did not go through", payment_id=payment.payment_id, refund_id=refund.get("id"),
                           status=refund.get("status"))
        return True

    # ------------------------------------------------------------------ disputes
    def _dispute_created(self, payment: Payment, envelope: Envelope) -> bool:
        if payment.status not in PAID_STATES:
            return False
        dispute = stripe_object(envelope)
        payment, _ = self._ledger.dispute_opened(payment.payment_id, _actor(envelope), dispute_id=str(dispute["id"]),
                                                 amount=int(dispute.get("amount") or 0),
                                                 reason=str(dispute.get("reason") or "general"),
                                                 correlation_id=envelope.id)
        if payment.dispute_id == dispute["id"] and payment.dispute_status == "open":
            self._policy(payment).after_dispute(payment, state="open", actor=_actor(envelope),
                                                correlation_id=envelope.id)
        return True

    def _dispute_closed(self, payment: Payment, envelope: Envelope) -> bool:
        if payment.status not in PAID_STATES:
            return False
        dispute = stripe_object(envelope)
        won = dispute.get("status") in WON_DISPUTE_STATES
        payment, _ = self._ledger.dispute_closed(payment.payment_id, _actor(envelope), dispute_id=str(dispute["id"]),
                                                 won=won, correlation_id=envelope.id)
        if payment.dispute_id == dispute["id"] and payment.dispute_status in ("won", "lost"):
            self._policy(payment).after_dispute(payment, state="won" if won else "lost", actor=_actor(envelope),
                                                correlation_id=envelope.id)
        return True
