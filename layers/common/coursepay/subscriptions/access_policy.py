"""What refunds and disputes do to course access (docs/engineering.md, policy table).

- One-time purchase: the standard policy (a full refund ends access, a partial keeps it).
- Subscription invoice: a full refund of an invoice cancels the subscription now, so access ends with it (it
  would otherwise run to the paid period's end); a partial refund keeps it. A refunded duplicate purchase
  was canceled by the duplicate handling already and never held the access.
- Disputes: the standard policy on the enrollment the subscription (or one-time session) granted.
"""

from __future__ import annotations

from coursepay.billing.money_events import DisputeState, StandardAccessPolicy
from coursepay.billing.payments import Payment
from coursepay.stripe_gateway.errors import stripe_errors
from coursepay.subscriptions.fulfilment import CourseFulfilment, as_dict


class CourseAccessPolicy:
    def __init__(self, standard: StandardAccessPolicy, fulfilment: CourseFulfilment) -> None:
        self._standard = standard
        self._fulfilment = fulfilment

    def after_refund(self, payment: Payment, *, full: bool, actor: str, correlation_id: str | None) -> None:
        if payment.pricing != "monthly":
            self._standard.after_refund(payment, full=full, actor=actor, correlation_id=correlation_id)
            return
        if not full or payment.duplicate_of or not payment.stripe_subscription_id:
            return
        subscription_id = payment.stripe_subscription_id
        with stripe_errors("end a refunded subscription"):
            subscription = self._fulfilment.stripe().v1.subscriptions.retrieve(subscription_id)
            if subscription.status not in ("canceled", "incomplete_expired"):
                subscription = self._fulfilment.stripe().v1.subscriptions.cancel(
                    subscription_id, options={"idempotency_key": f"refunded-subscription-{subscription_id}"})
        self._fulfilment.apply_subscription(as_dict(subscription), actor)

    def after_dispute(self, payment: Payment, *, state: DisputeState, actor: str,
                      correlation_id: str | None) -> None:
        self._standard.after_dispute(payment, state=state, actor=actor, correlation_id=correlation_id)
