"""Payment state changes driven by Stripe events, each a conditional write plus an audit entry.

Transitions only move forward, whatever order Stripe's events arrive in: a payment that succeeded never goes
back to failed or pending, a refund never lowers the refunded amount, and repeating an event changes nothing.

    pending / requires_action / failed --succeeded--> succeeded --charge.refunded--> partially_refunded | refunded
    pending / requires_action / failed --failed-----> failed
    pending / requires_action / failed --canceled---> canceled (PaymentIntent canceled, Checkout Session expired)
"""

from __future__ import annotations

from typing import Any

from coursepay.billing.payments import Payment, PaymentsRepository, PaymentStatus
from coursepay.clock import iso_now
from coursepay.errors import ConditionFailed, NotFound
from coursepay.storage.audit import AuditEntry, AuditTrail

OPEN_STATES: tuple[PaymentStatus, ...] = ("pending", "requires_action", "failed")


def _audit_view(payment: Payment) -> dict[str, Any]:
    return payment.model_dump(include={"status", "user_id", "amount", "currency", "refunded_amount", "refunded_at",
                                       "failure_reason", "stripe_payment_intent_id"})


class PaymentLedger:
    def __init__(self, payments: PaymentsRepository, audit: AuditTrail) -> None:
        self.payments = payments
        self._audit = audit

    def require(self, payment_id: str) -> Payment:
        payment = self.payments.get(payment_id)
        if payment is None:
            raise NotFound(f"no payment {payment_id}")
        return payment

    def _transition(self, payment_id: str, action: str, actor: str, fields: dict[str, Any], condition: str,
                    values: dict[str, Any]) -> tuple[Payment, bool]:
        """Apply ``fields`` if ``condition`` holds; returns the payment and whether it changed."""
        before = self.require(payment_id)
        fields = {**fields, "updated_at": iso_now()}
        try:
            self.payments.table.update({"pk": f"PAYMENT#{payment_id}", "sk": "PAYMENT"}, set_fields=fields,
                                       condition=f"attribute_exists(pk) AND ({condition})",
                                       names={"#st": "status"} if "#st" in condition else None, values=values)
        except ConditionFailed:
            return self.require(payment_id), False
        after = self.require(payment_id)
        self._audit.record(AuditEntry(entity=f"payment#{payment_id}", action=action, actor=actor,
                                      before=_audit_view(before), after=_audit_view(after)))
        return after, True

    def link_payment_intent(self, payment_id: str, payment_intent_id: str, actor: str) -> Payment:
        """Record which PaymentIntent a Checkout Session's payment became (refund and charge events find it)."""
        payment, _ = self._transition(
            payment_id, "payment.intent_linked", actor,
            {"stripe_payment_intent_id": payment_intent_id, "gsi2pk": f"PI#{payment_intent_id}", "gsi2sk": "PAYMENT"},
            "attribute_not_exists(stripe_payment_intent_id)", {})
        return payment

    def succeeded(self, payment_id: str, actor: str, *, user_id: str, payment_intent_id: str | None) -> Payment:
        before = self.require(payment_id)
        fields: dict[str, Any] = {"status": "succeeded", "user_id": user_id, "failure_reason": None,
                                  "gsi1pk": f"USER#{user_id}", "gsi1sk": f"PAYMENT#{before.created_at}"}
        if payment_intent_id:
            fields.update({"stripe_payment_intent_id": payment_intent_id, "gsi2pk": f"PI#{payment_intent_id}",
                           "gsi2sk": "PAYMENT"})
        payment, _ = self._transition(payment_id, "payment.succeeded", actor, fields, _open_condition(),
                                      _open_values())
        return payment

    def failed(self, payment_id: str, actor: str, reason: str) -> Payment:
        payment, _ = self._transition(payment_id, "payment.failed", actor,
                                      {"status": "failed", "failure_reason": reason[:500]}, _open_condition(),
                                      _open_values())
        return payment

    def awaiting(self, payment_id: str, actor: str) -> Payment:
        """An asynchronous payment method was used: the outcome comes later (async_payment_* events)."""
        payment, _ = self._transition(payment_id, "payment.processing", actor, {"status": "requires_action"},
                                      "#st = :pending", {":pending": "pending"})
        return payment

    def canceled(self, payment_id: str, actor: str) -> Payment:
        payment, _ = self._transition(payment_id, "payment.canceled", actor, {"status": "canceled"},
                                      _open_condition(), _open_values())
        return payment

    def refunded(self, payment_id: str, actor: str, *, amount_refunded: int) -> tuple[Payment, bool]:
        """Stripe's total refunded so far (``charge.amount_refunded``); only ever raises the recorded amount."""
        payment = self.require(payment_id)
        status = "refunded" if amount_refunded >= payment.amount else "partially_refunded"
        return self._transition(
            payment_id, f"payment.{status}", actor,
            {"status": status, "refunded_amount": min(amount_refunded, payment.amount), "refunded_at": iso_now()},
            "refunded_amount < :new", {":new": min(amount_refunded, payment.amount)})


def _open_condition() -> str:
    return "#st IN (" + ", ".join(f":s{i}" for i in range(len(OPEN_STATES))) + ")"


def _open_values() -> dict[str, Any]:
    return {f":s{i}": state for i, state in enumerate(OPEN_STATES)}
