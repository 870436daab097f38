"""A declined attempt on a hosted checkout page: Stripe reports it on the session's PaymentIntent
(``payment_intent.payment_failed``), not on the session, which stays open for another card. The payment
record (keyed by the session) is found through Stripe, linked to the PaymentIntent and marked failed with
Stripe's reason, for every product kind the same way."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from coursepay.billing.ledger import PaymentLedger
from coursepay.billing.payments import Payment
from coursepay.events.envelope import Envelope
from coursepay.events.handlers import stripe_object
from coursepay.observability import logger
from coursepay.stripe_gateway.errors import stripe_errors

if TYPE_CHECKING:
    import stripe


def failure_reason(intent: dict[str, Any]) -> str:
    error = intent.get("last_payment_error") or {}
    code = error.get("decline_code") or error.get("code") or "payment_failed"
    message = error.get("message") or "the payment failed"
    return f"{code}: {message}"


class CheckoutAttempts:
    def __init__(self, ledger: PaymentLedger, stripe_client: Callable[[], stripe.StripeClient]) -> None:
        self._ledger = ledger
        self._stripe = stripe_client

    def payment_of_intent(self, intent_id: str) -> Payment | None:
        """The payment a Checkout Session's PaymentIntent belongs to (linked on first sight)."""
        payment = self._ledger.payments.by_payment_intent(intent_id)
        if payment is not None:
            return payment
        with stripe_errors("find the checkout session of a payment"):
            sessions = self._stripe().v1.checkout.sessions.list(params={"payment_intent": intent_id, "limit": 1})
        for session in sessions.data:
            if self._ledger.payments.get(session.id) is not None:
                return self._ledger.link_payment_intent(session.id, intent_id, "system:checkout-attempt")
        return None

    def on_intent_failed(self, envelope: Envelope) -> None:
        intent = stripe_object(envelope)
        payment = self.payment_of_intent(str(intent["id"]))
        if payment is None:
            logger.warning("failed attempt of an unknown checkout", payment_intent=intent.get("id"))
            return
        self._ledger.failed(payment.payment_id, f"stripe:{envelope.id}", failure_reason(intent),
                            correlation_id=envelope.id)
