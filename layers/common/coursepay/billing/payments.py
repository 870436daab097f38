"""Payment records: what was bought, by whom, for how much, with which Stripe objects, and how it ended.

``payment_id`` is the id of the Stripe object that represents the purchase attempt: a PaymentIntent
(``pi_``), a Checkout Session (``cs_``) or a subscription Invoice (``in_``). Keys (payments table):
``pk=PAYMENT#<payment_id>, sk=PAYMENT``; gsi1 ``USER#<user>`` / ``PAYMENT#<created_at>`` (a user's
payments, newest first); gsi2 ``PI#<payment_intent>`` / ``PAYMENT`` (from charge and refund events); gsi3
``PAYMENTS#<yyyy-mm>`` / ``<created_at>#<payment_id>`` (every payment by month: the admins' search).
Records carry ``expires_at``: they are kept 7 years, then DynamoDB's TTL deletes them
(``coursepay.storage.retention``); the PaymentIntent link records expire with them.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

from coursepay.clock import iso_now
from coursepay.correlation import current_correlation_id
from coursepay.errors import ConditionFailed
from coursepay.storage.batches import BatchRead, ConditionalPut, Slot
from coursepay.storage.dynamo import DynamoTable, item_to_model
from coursepay.storage.retention import EXPIRY_ATTRIBUTE, record_expiry

ProductKind = Literal["course", "track", "booking"]
PaymentStatus = Literal["pending", "requires_action", "succeeded", "failed", "canceled", "refunded",
                        "partially_refunded"]
# one_time: a one-off purchase; subscription_start: a subscription's first invoice; renewal: a later invoice.
Purchase = Literal["one_time", "subscription_start", "renewal"]
DisputeStatus = Literal["open", "won", "lost"]


class Payment(BaseModel):
    payment_id: str
    user_id: str | None = None  # None until an anonymous purchase is linked to its account
    kind: ProductKind
    item_id: str
    item_name: str | None = None  # what the buyer sees on receipts (title at the time of purchase)
    pricing: str = "one_time"  # "one_time" | "monthly"
    purchase: Purchase = "one_time"
    amount: int  # minor units
    currency: str
    status: PaymentStatus = "pending"
    stripe_customer_id: str | None = None
    stripe_payment_intent_id: str | None = None
    stripe_checkout_session_id: str | None = None
    stripe_subscription_id: str | None = None
    stripe_invoice_id: str | None = None
    failure_reason: str | None = None
    refunded_amount: int = 0
    last_refund_amount: int = 0  # the latest refund's share of refunded_amount (receipts say it)
    refunded_at: str | None = None
    dispute_id: str | None = None
    dispute_status: DisputeStatus | None = None
    duplicate_of: str | None = None  # the payment or subscription that already granted what this one bought
    # the purchase's trace (coursepay.correlation): a checkout's purchase id, else the bound id of the request or
    # event that recorded the payment
    correlation_id: str | None = Field(default_factory=current_correlation_id)
    created_at: str = Field(default_factory=iso_now)
    updated_at: str = Field(default_factory=iso_now)


def _key(payment_id: str) -> dict[str, str]:
    return {"pk": f"PAYMENT#{payment_id}", "sk": "PAYMENT"}


def _to_item(payment: Payment) -> dict[str, Any]:
    item: dict[str, Any] = {**_key(payment.payment_id), **payment.model_dump(exclude_none=True),
                            EXPIRY_ATTRIBUTE: record_expiry()}
    if payment.user_id:
        item["gsi1pk"], item["gsi1sk"] = f"USER#{payment.user_id}", f"PAYMENT#{payment.created_at}"
    if payment.stripe_payment_intent_id:
        item["gsi2pk"], item["gsi2sk"] = f"PI#{payment.stripe_payment_intent_id}", "PAYMENT"
    # every payment by the month it was created (the admins' search, coursepay.billing.admin_views)
    item["gsi3pk"], item["gsi3sk"] = f"PAYMENTS#{payment.created_at[:7]}", f"{payment.created_at}#{payment.payment_id}"
    return item


def payment_from_item(item: dict[str, Any]) -> Payment:
    return item_to_model(Payment, item)


class PaymentsRepository:
    def __init__(self, table_name: str) -> None:
        self.table = DynamoTable(table_name)

    def create(self, payment: Payment) -> bool:
        """Store a new payment; False if one with that id exists already (a repeated request)."""
        try:
            self.table.put_new(_to_item(payment))
        except ConditionFailed:
            return False
        if payment.stripe_payment_intent_id:
            self.remember_intent(payment.stripe_payment_intent_id, payment.payment_id)
        return True

    def create_put(self, payment: Payment) -> ConditionalPut:
        """:meth:`create`'s write of a payment with no PaymentIntent yet, to apply together with others."""
        if payment.stripe_payment_intent_id:
            raise ValueError("a payment with a PaymentIntent is created with its link: use create()")
        return ConditionalPut(self.table, _to_item(payment), condition="attribute_not_exists(pk)")

    def remember_intent(self, payment_intent_id: str, payment_id: str) -> None:
        """``pk=PI#<pi>, sk=PAYMENT_REF``: the PaymentIntent -> payment link, read consistently (a GSI is not),
        so a refund or dispute event never misses a payment linked just before it."""
        self.intent_ref_put(payment_intent_id, payment_id).apply()

    def intent_ref_put(self, payment_intent_id: str, payment_id: str) -> ConditionalPut:
        """:meth:`remember_intent`'s write, to apply together with others."""
        return ConditionalPut(self.table, {"pk": f"PI#{payment_intent_id}", "sk": "PAYMENT_REF",
                                           "payment_id": payment_id,
                                           EXPIRY_ATTRIBUTE: record_expiry()})

    def get(self, payment_id: str) -> Payment | None:
        item = self.table.get(_key(payment_id))
        return payment_from_item(item) if item else None

    def want(self, batch: BatchRead, payment_id: str) -> Slot[Payment]:
        """The payment, read with the other keys of ``batch``."""
        return batch.want(self.table, _key(payment_id), payment_from_item)

    def by_payment_intent(self, payment_intent_id: str) -> Payment | None:
        ref = self.table.get({"pk": f"PI#{payment_intent_id}", "sk": "PAYMENT_REF"})
        return self.get(str(ref["payment_id"])) if ref else None

    def of_user(self, user_id: str) -> list[Payment]:
        items = self.table.query_all(partition=("gsi1pk", f"USER#{user_id}"), sort_prefix=("gsi1sk", "PAYMENT#"),
                                     index="gsi1")
        return sorted((payment_from_item(item) for item in items), key=lambda p: p.created_at, reverse=True)
