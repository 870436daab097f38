"""The billing core's refund path for refunds a product kind decides itself (a booking's cancellation policy, a
payment that arrived for a booking no longer held): one Stripe refund per decision, named by the kind's key.

Stripe's refund is created with ``refund-<key>`` as idempotency key, so a redelivered event or a retried request
refunds once. The payment's refunded amount and status follow from ``charge.refunded`` (the core's money events),
whatever started the refund; this only asks for it, and audits the request.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Literal

from coursepay.billing.payments import Payment
from coursepay.errors import Conflict, InvalidRequest
from coursepay.storage.audit import AuditEntry, AuditTrail
from coursepay.stripe_gateway.errors import stripe_errors

if TYPE_CHECKING:
    import stripe

RefundReason = Literal["requested_by_customer", "duplicate", "fraudulent"]


class Refunds:
    def __init__(self, audit: AuditTrail, stripe_client: Callable[[], stripe.StripeClient]) -> None:
        self._audit = audit
        self._stripe = stripe_client

    def refund(self, payment: Payment, amount: int, *, key: str, actor: str, reason: RefundReason,
               metadata: dict[str, str]) -> Any:
        """Refund ``amount`` (minor units, 1..what is left) of ``payment``; the same ``key`` never refunds twice."""
        if not payment.stripe_payment_intent_id:
            raise InvalidRequest(f"payment {payment.payment_id} has no PaymentIntent to refund")
        if not 0 < amount <= payment.amount:
            raise InvalidRequest(f"a refund is 1..{payment.amount}, not {amount}", field="amount")
        with stripe_errors("refund the payment", refused=Conflict):
            refund = self._stripe().v1.refunds.create(
                params={"payment_intent": payment.stripe_payment_intent_id, "amount": amount,
                        "reason": reason,
                        "metadata": {"kind": payment.kind, "payment_id": payment.payment_id, **metadata}},
                options={"idempotency_key": f"refund-{key}"[:255]})
        self._audit.record(AuditEntry(entity=f"payment#{payment.payment_id}", action="refund.requested", actor=actor,
                                      after={"refund_id": refund.id, "amount": amount, "key": key, **metadata}))
        return refund
