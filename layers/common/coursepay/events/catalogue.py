"""The event types coursepay acts on. Stripe events of other types are acknowledged and ignored."""

from __future__ import annotations

STRIPE_SOURCE = "coursepay.stripe"

HANDLED_STRIPE_EVENT_TYPES: frozenset[str] = frozenset({
    "checkout.session.completed",
    "checkout.session.expired",
    "checkout.session.async_payment_succeeded",
    "checkout.session.async_payment_failed",
    "payment_intent.succeeded",
    "payment_intent.payment_failed",
    "payment_intent.canceled",
    "charge.refunded",
    "charge.dispute.created",
    "charge.dispute.closed",
    "refund.updated",
    "invoice.paid",
    "invoice.payment_failed",
    "customer.subscription.created",
    "customer.subscription.updated",
    "customer.subscription.deleted",
    "account.updated",  # a teacher's Connect account (the Connect endpoint), coursepay.bookings.fulfilment
})
