"""One Stripe Customer per user, even under concurrent requests.

The mapping lives in the accounts table (``pk=USER#<sub>, sk=STRIPE_CUSTOMER``; gsi1 ``STRIPE_CUSTOMER#<cus>``
for the reverse look-up). Concurrent first purchases both call Stripe with the same idempotency key, so
Stripe returns the same Customer to both; the conditional write then keeps the first mapping.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import suppress
from typing import TYPE_CHECKING

from coursepay.errors import ConditionFailed
from coursepay.storage.batches import BatchRead, Slot
from coursepay.storage.dynamo import DynamoTable

if TYPE_CHECKING:
    import stripe

CUSTOMER_SK = "STRIPE_CUSTOMER"


class CustomerDirectory:
    def __init__(self, accounts_table: str, stripe_client: Callable[[], stripe.StripeClient]) -> None:
        self._table = DynamoTable(accounts_table)
        self._stripe = stripe_client

    def customer_id_of(self, user_id: str) -> str | None:
        item = self._table.get({"pk": f"USER#{user_id}", "sk": CUSTOMER_SK})
        return str(item["customer_id"]) if item else None

    def want(self, batch: BatchRead, user_id: str) -> Slot[str]:
        """The user's Customer id, read with the other keys of ``batch``."""
        return batch.want(self._table, {"pk": f"USER#{user_id}", "sk": CUSTOMER_SK},
                          lambda item: str(item["customer_id"]))

    def ensure_customer(self, user_id: str, email: str, name: str | None = None) -> str:
        existing = self.customer_id_of(user_id)
        if existing:
            return existing
        params: dict[str, object] = {"email": email, "metadata": {"user_id": user_id}}
        if name:
            params["name"] = name
        customer = self._stripe().v1.customers.create(
            params=params,  # type: ignore[arg-type]
            options={"idempotency_key": f"customer-for-user-{user_id}"},
        )
        self.link(user_id, customer.id)
        return self.customer_id_of(user_id) or customer.id

    def link(self, user_id: str, customer_id: str) -> None:
        """Record the mapping unless the user already has a customer (the first mapping wins)."""
        with suppress(ConditionFailed):
            self._table.put_new({"pk": f"USER#{user_id}", "sk": CUSTOMER_SK, "user_id": user_id,
                                 "customer_id": customer_id, "gsi1pk": f"STRIPE_CUSTOMER#{customer_id}",
                                 "gsi1sk": "USER"})
