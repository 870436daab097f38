"""A checkout that completes for something the buyer already owns (an old session paid in another tab, a
monthly bought beside a one-time purchase) is refunded automatically and audited as a duplicate purchase,
never silently kept. A duplicate subscription is canceled at once as well, so it never renews.

Each Stripe call carries an idempotency key derived from the payment, so a redelivered event refunds once.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from coursepay.billing.ledger import PaymentLedger
from coursepay.billing.payments import Payment
from coursepay.errors import Conflict
from coursepay.observability import logger
from coursepay.stripe_gateway.errors import stripe_errors

if TYPE_CHECKING:
    import stripe


class DuplicatePurchases:
    def __init__(self, ledger: PaymentLedger, stripe_client: Callable[[], stripe.StripeClient]) -> None:
        self._ledger = ledger
        self._stripe = stripe_client

    def refund(self, payment: Payment, *, owned_through: str, actor: str, correlation_id: str | None) -> None:
        """Mark ``payment`` as a duplicate of ``owned_through`` and refund it in full (once)."""
        if not payment.stripe_payment_intent_id:
            raise ValueError(f"duplicate payment {payment.payment_id} has no PaymentIntent to refund")
        self._ledger.duplicate(payment.payment_id, actor, owned_through=owned_through, correlation_id=correlation_id)
        if payment.stripe_subscription_id:
            self.cancel_subscription(payment.stripe_subscription_id)
        try:
            with stripe_errors("refund a duplicate purchase", refused=Conflict):
                self._stripe().v1.refunds.create(
                    params={"payment_intent": payment.stripe_payment_intent_id, "reason": "duplicate",
                            "metadata": {"kind": payment.kind, "payment_id": payment.payment_id,
                                         "duplicate_of": owned_through}},
                    options={"idempotency_key": f"duplicate-purchase-{payment.payment_id}"})
        except Conflict:
            # refunded already (e.g. by hand in the dashboard): the charge.refunded event records it
            logger.info("duplicate purchase already refunded", payment_id=payment.payment_id)
        logger.warning("duplicate purchase refunded", payment_id=payment.payment_id, owned_through=owned_through)

    def cancel_subscription(self, subscription_id: str) -> None:
        import stripe

        try:
            with stripe_errors("cancel a duplicate subscription"):
                self._stripe().v1.subscriptions.cancel(
                    subscription_id, options={"idempotency_key": f"duplicate-subscription-{subscription_id}"})
        except stripe.InvalidRequestError:
            logger.info("duplicate subscription already canceled", subscription_id=subscription_id)
