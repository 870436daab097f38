"""Domain events of the billing core (source ``coursepay.billing``; envelope v1, docs/events.md).

Every product kind's money moves are published here, in one shape: the notifications consumer turns them
into receipts and notices, later consumers (admin summaries) count them. Ids are derived from what caused
them (the payment, the Stripe event, the refunded total), so publishing again after a retry yields the same
id and each consumer, which claims ``<consumer>#<event id>``, acts once. They carry ids and amounts, never
contact details: consumers read the recipient's profile themselves.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel

from coursepay.correlation import traced
from coursepay.events.envelope import Envelope

BILLING_SOURCE = "coursepay.billing"

PAYMENT_SUCCEEDED = "payment.succeeded"
PAYMENT_FAILED = "payment.failed"
PAYMENT_REFUNDED = "payment.refunded"
PAYMENT_DISPUTED = "payment.disputed"
PAYMENT_DISPUTE_CLOSED = "payment.dispute_closed"
DUPLICATE_PURCHASE_REFUNDED = "payment.duplicate_refunded"
REFUND_REQUEST_APPROVED = "refund_request.approved"
REFUND_REQUEST_DENIED = "refund_request.denied"

# one_time: a one-off purchase; subscription_start: the first invoice of a subscription; renewal: a later one.
Purchase = Literal["one_time", "subscription_start", "renewal"]


class PaymentFacts(BaseModel):
    """What every money event says about the payment it concerns."""

    payment_id: str
    user_id: str
    kind: str  # the product kind: course, track, gig
    item_id: str
    item_name: str
    amount: int  # what the payment was for, in minor units of ``currency``
    currency: str


class PaymentSucceeded(PaymentFacts):
    purchase: Purchase


class PaymentFailed(PaymentFacts):
    purchase: Purchase
    failure_reason: str


class PaymentRefunded(PaymentFacts):
    refund_amount: int  # this refund (the increase of ``refunded_total``)
    refunded_total: int
    full: bool  # nothing is left of the payment
    # A refunded duplicate purchase: the payment or subscription that still grants access (``Payment.duplicate_of``).
    # The refund e-mail then says access is unchanged instead of ended.
    duplicate_of: str | None = None


class PaymentDisputed(PaymentFacts):
    dispute_id: str
    disputed_amount: int
    reason: str


class PaymentDisputeClosed(PaymentFacts):
    dispute_id: str
    outcome: Literal["won", "lost"]


class DuplicatePurchaseRefunded(PaymentFacts):
    """A checkout completed for something the buyer already owned: refunded automatically."""

    owned_through: str  # the payment or subscription that already grants access


class RefundRequestDecided(PaymentFacts):
    request_id: str
    approved_amount: int | None = None  # approved requests
    decision_reason: str | None = None  # denied requests


def billing_envelope(event_type: str, event_id: str, data: BaseModel, correlation_id: str | None) -> Envelope:
    """``correlation_id``: the causing event's id, used only outside a traced unit of work (coursepay.correlation)."""
    return Envelope(id=event_id, source=BILLING_SOURCE, type=event_type, correlation_id=traced(correlation_id),
                    data=data.model_dump(mode="json"))
