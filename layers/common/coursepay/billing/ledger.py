"""The one payment ledger of every product kind: state changes driven by Stripe, each a conditional write,
an audit entry and a money event on the bus.

Transitions only move forward, whatever order Stripe's events arrive in: a payment that succeeded never goes
back to failed or pending, a refund never lowers the refunded amount, a closed dispute never reopens, and
repeating an event changes nothing.

    pending / requires_action / failed --succeeded--> succeeded --refunds--> partially_refunded | refunded
    pending / requires_action / failed --failed-----> failed      (a later attempt may still succeed)
    pending / requires_action / failed --canceled---> canceled    (PaymentIntent canceled, Session expired)
    any paid state --dispute opened--> dispute_status open --closed--> won | lost

Money events (``coursepay.billing.events``) are published whenever the payment *is* in the state an event
reports, not only when this call changed it: a crash between the write and the publish is repaired by the
redelivery, and the event's deterministic id keeps consumers from acting twice.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from coursepay import observability as figures
from coursepay.billing import events as money
from coursepay.billing.payments import Payment, PaymentsRepository, PaymentStatus
from coursepay.clock import iso_now, utc_now
from coursepay.errors import ConditionFailed, NotFound
from coursepay.events.envelope import Envelope
from coursepay.storage.audit import AuditEntry, AuditTrail
from coursepay.storage.batches import ConditionalPut, write_together
from coursepay.storage.dynamo import item_to_model

OPEN_STATES: tuple[PaymentStatus, ...] = ("pending", "requires_action", "failed")
PAID_STATES: tuple[PaymentStatus, ...] = ("succeeded", "partially_refunded", "refunded")

Publish = Callable[[list[Envelope]], None]


def _audit_view(payment: Payment) -> dict[str, Any]:
    return payment.model_dump(include={"status", "user_id", "amount", "currency", "refunded_amount", "refunded_at",
                                       "failure_reason", "stripe_payment_intent_id", "dispute_id", "dispute_status",
                                       "duplicate_of"})


def _figures_of_success(payment: Payment) -> None:
    """Emitted once per payment: only the call whose conditional write moved it to succeeded gets here."""
    figures.record(figures.PAYMENTS_SUCCEEDED, Kind=payment.kind)
    figures.record(figures.REVENUE, payment.amount, Currency=payment.currency.lower())
    created = datetime.fromisoformat(payment.created_at)
    figures.record(figures.PAYMENT_TIME, max(0.0, (utc_now() - created).total_seconds()))


def _in(values: tuple[str, ...], prefix: str) -> tuple[str, dict[str, Any]]:
    names = {f":{prefix}{i}": value for i, value in enumerate(values)}
    return "#st IN (" + ", ".join(names) + ")", names


class PaymentLedger:
    def __init__(self, payments: PaymentsRepository, audit: AuditTrail, publish: Publish) -> None:
        self.payments = payments
        self._audit = audit
        self._publish = publish
        # set by the money events (``MoneyEvents``): applies the events parked for a payment once it is settled
        self.on_settled: Callable[[Payment], None] | None = None

    def require(self, payment_id: str) -> Payment:
        payment = self.payments.get(payment_id)
        if payment is None:
            raise NotFound(f"no payment {payment_id}")
        return payment

    def record(self, payment: Payment, actor: str, action: str = "payment.created") -> bool:
        """Store a new payment (audited); False when it exists already (a repeated request or event)."""
        if not self.payments.create(payment):
            return False
        self._audit.record(self._created_entry(payment, actor, action))
        return True

    def record_puts(self, payment: Payment, actor: str, action: str) -> list[ConditionalPut]:
        """:meth:`record`'s writes (the payment, its audit entry), to apply together with the caller's own; if that
        transaction fails on a condition, :meth:`record` is the way to repeat it."""
        return [self.payments.create_put(payment), self._audit.put_for(self._created_entry(payment, actor, action))]

    @staticmethod
    def _created_entry(payment: Payment, actor: str, action: str) -> AuditEntry:
        return AuditEntry(entity=f"payment#{payment.payment_id}", action=action, actor=actor,
                          after=payment.model_dump(exclude_none=True))

    def _transition(self, payment_id: str, action: str, actor: str, fields: dict[str, Any], condition: str,
                    values: dict[str, Any], *, before: Payment | None = None,
                    also: list[ConditionalPut] | None = None) -> tuple[Payment, bool]:
        """Apply ``fields`` if ``condition`` holds; returns the payment and whether it changed. ``before`` is the
        payment when the caller read it already (the audit's before; the condition guards the write itself);
        ``also``: writes that belong to the change, made with its audit entry (one transaction) when it happens."""
        before = before or self.require(payment_id)
        fields = {**fields, "updated_at": iso_now()}
        try:
            updated = self.payments.table.update(
                {"pk": f"PAYMENT#{payment_id}", "sk": "PAYMENT"}, set_fields=fields,
                condition=f"attribute_exists(pk) AND ({condition})",
                names={"#st": "status"} if "#st" in condition else None, values=values)
        except ConditionFailed:
            return self.require(payment_id), False
        after = item_to_model(Payment, updated)  # the update's own answer (ALL_NEW): no read after the write
        entry = self._audit.put_for(AuditEntry(entity=f"payment#{payment_id}", action=action, actor=actor,
                                               before=_audit_view(before), after=_audit_view(after)))
        if also:
            write_together([entry, *also])
        else:
            entry.apply()
        return after, True

    # ------------------------------------------------------------------ attempts
    def link_payment_intent(self, payment_id: str, payment_intent_id: str, actor: str) -> Payment:
        """Record which PaymentIntent a Checkout Session or Invoice became (charge events find it by that)."""
        payment, _ = self._transition(
            payment_id, "payment.intent_linked", actor,
            {"stripe_payment_intent_id": payment_intent_id, "gsi2pk": f"PI#{payment_intent_id}", "gsi2sk": "PAYMENT"},
            "attribute_not_exists(stripe_payment_intent_id)", {})
        self.payments.remember_intent(payment_intent_id, payment_id)
        return payment

    def succeeded(self, payment_id: str, actor: str, *, user_id: str, payment_intent_id: str | None,
                  correlation_id: str | None = None, known: Payment | None = None) -> Payment:
        """``known``: the payment as the caller just read it (saves reading it again)."""
        before = known if known is not None and known.payment_id == payment_id else self.require(payment_id)
        fields: dict[str, Any] = {"status": "succeeded", "user_id": user_id, "failure_reason": None,
                                  "gsi1pk": f"USER#{user_id}", "gsi1sk": f"PAYMENT#{before.created_at}"}
        if payment_intent_id:
            fields.update({"stripe_payment_intent_id": payment_intent_id, "gsi2pk": f"PI#{payment_intent_id}",
                           "gsi2sk": "PAYMENT"})
        condition, values = _in(OPEN_STATES, "s")
        link = [self.payments.intent_ref_put(payment_intent_id, payment_id)] if payment_intent_id else None
        payment, changed = self._transition(payment_id, "payment.succeeded", actor, fields, condition, values,
                                            before=before, also=link)
        if changed:
            _figures_of_success(payment)
        if payment_intent_id and not changed:  # a repeat: the link is made again (it may be what failed before)
            self.payments.remember_intent(payment_intent_id, payment_id)
        if payment.status in PAID_STATES and payment.user_id:
            self._announce(money.PAYMENT_SUCCEEDED, f"ev_payment_succeeded_{payment_id}",
                           money.PaymentSucceeded(**self._facts(payment), purchase=payment.purchase), correlation_id)
        return payment

    def settled(self, payment_id: str, *, known: Payment | None = None) -> None:
        """The product kind has done all a success does (access granted, or a duplicate refunded): now the
        refunds and disputes that arrived before it apply, on top of that access (``coursepay.billing.parking``).
        ``known``: the payment as the kind last had it (only its PaymentIntent is needed here)."""
        payment = known if known is not None and known.payment_id == payment_id else self.require(payment_id)
        if self.on_settled is not None and payment.stripe_payment_intent_id:
            self.on_settled(payment)

    def failed(self, payment_id: str, actor: str, reason: str, *, correlation_id: str | None = None) -> Payment:
        condition, values = _in(OPEN_STATES, "s")
        payment, changed = self._transition(payment_id, "payment.failed", actor,
                                            {"status": "failed", "failure_reason": reason[:500]}, condition, values)
        if changed:
            figures.record(figures.PAYMENTS_FAILED, Kind=payment.kind)
        if payment.status == "failed" and payment.user_id and (changed or correlation_id):
            # one notice per failed attempt: the Stripe event that reported it names it
            self._announce(money.PAYMENT_FAILED, f"ev_payment_failed_{payment_id}_{correlation_id or 'x'}",
                           money.PaymentFailed(**self._facts(payment), purchase=payment.purchase,
                                               failure_reason=payment.failure_reason or reason), correlation_id)
        return payment

    def awaiting(self, payment_id: str, actor: str) -> Payment:
        """An asynchronous payment method was used: the outcome comes later (async_payment_* events)."""
        payment, _ = self._transition(payment_id, "payment.processing", actor, {"status": "requires_action"},
                                      "#st = :pending", {":pending": "pending"})
        return payment

    def canceled(self, payment_id: str, actor: str) -> Payment:
        condition, values = _in(OPEN_STATES, "s")
        payment, _ = self._transition(payment_id, "payment.canceled", actor, {"status": "canceled"}, condition, values)
        return payment

    # ------------------------------------------------------------------ after the money moved
    def refunded(self, payment_id: str, actor: str, *, amount_refunded: int,
                 correlation_id: str | None = None) -> tuple[Payment, int]:
        """Stripe's total refunded so far (``charge.amount_refunded``); only ever raises the recorded amount.
        Returns the payment and by how much this call raised it (0: nothing new)."""
        before = self.require(payment_id)
        total = min(amount_refunded, before.amount)
        status = "refunded" if total >= before.amount else "partially_refunded"
        condition, values = _in(PAID_STATES, "p")
        payment, changed = self._transition(
            payment_id, f"payment.{status}", actor,
            {"status": status, "refunded_amount": total, "last_refund_amount": total - before.refunded_amount,
             "refunded_at": iso_now()},
            f"refunded_amount < :new AND {condition}", {":new": total, **values}, before=before)
        if changed:
            figures.record(figures.REFUNDS, Kind=payment.kind)
            figures.record(figures.REFUNDED_AMOUNT, payment.refunded_amount - before.refunded_amount,
                           Currency=payment.currency.lower())
        if payment.user_id and total > 0 and payment.refunded_amount == total:
            # the event of this refunded total (a redelivery publishes the same id again)
            self._announce(money.PAYMENT_REFUNDED, f"ev_payment_refunded_{payment_id}_{total}",
                           money.PaymentRefunded(**self._facts(payment), refund_amount=payment.last_refund_amount,
                                                 refunded_total=total, full=total >= payment.amount,
                                                 duplicate_of=payment.duplicate_of), correlation_id)
        return payment, (payment.refunded_amount - before.refunded_amount) if changed else 0

    def dispute_opened(self, payment_id: str, actor: str, *, dispute_id: str, amount: int, reason: str,
                       correlation_id: str | None = None) -> tuple[Payment, bool]:
        payment, changed = self._transition(
            payment_id, "payment.disputed", actor, {"dispute_id": dispute_id, "dispute_status": "open"},
            "attribute_not_exists(dispute_id) OR dispute_id <> :d", {":d": dispute_id})
        if payment.dispute_id == dispute_id and payment.user_id:
            self._announce(money.PAYMENT_DISPUTED, f"ev_payment_disputed_{dispute_id}",
                           money.PaymentDisputed(**self._facts(payment), dispute_id=dispute_id,
                                                 disputed_amount=amount, reason=reason), correlation_id)
        return payment, changed

    def dispute_closed(self, payment_id: str, actor: str, *, dispute_id: str, won: bool,
                       correlation_id: str | None = None) -> tuple[Payment, bool]:
        outcome = "won" if won else "lost"
        payment, changed = self._transition(
            payment_id, f"payment.dispute_{outcome}", actor, {"dispute_id": dispute_id, "dispute_status": outcome},
            "attribute_not_exists(dispute_status) OR dispute_status = :open OR dispute_id <> :d",
            {":open": "open", ":d": dispute_id})
        if payment.dispute_id == dispute_id and payment.dispute_status == outcome and payment.user_id:
            self._announce(money.PAYMENT_DISPUTE_CLOSED, f"ev_payment_dispute_closed_{dispute_id}",
                           money.PaymentDisputeClosed(**self._facts(payment), dispute_id=dispute_id,
                                                      outcome=outcome), correlation_id)
        return payment, changed

    def duplicate(self, payment_id: str, actor: str, *, owned_through: str,
                  correlation_id: str | None = None) -> Payment:
        """The payment bought what the buyer already had: marked (once) before it is refunded."""
        payment, _ = self._transition(payment_id, "payment.duplicate_purchase", actor, {"duplicate_of": owned_through},
                                      "attribute_not_exists(duplicate_of)", {})
        if payment.user_id:
            self._announce(money.DUPLICATE_PURCHASE_REFUNDED, f"ev_payment_duplicate_{payment_id}",
                           money.DuplicatePurchaseRefunded(**self._facts(payment),
                                                           owned_through=payment.duplicate_of or owned_through),
                           correlation_id)
        return payment

    # ------------------------------------------------------------------ events
    @staticmethod
    def _facts(payment: Payment) -> dict[str, Any]:
        return {"payment_id": payment.payment_id, "user_id": payment.user_id, "kind": payment.kind,
                "item_id": payment.item_id, "item_name": payment.item_name or payment.item_id,
                "amount": payment.amount, "currency": payment.currency}

    def _announce(self, event_type: str, event_id: str, data: money.PaymentFacts, correlation_id: str | None) -> None:
        self._publish([money.billing_envelope(event_type, event_id, data, correlation_id)])
