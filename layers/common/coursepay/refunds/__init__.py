"""Refund requests: a student asks, an admin approves (full or partial) or denies; approval issues the Stripe
refund once. The payment itself is updated by ``charge.refunded`` (``coursepay.billing.money_events``)."""
