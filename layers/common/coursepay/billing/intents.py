"""The one PaymentIntent path of every product kind (no hosted page): at most one PaymentIntent per purchase,
whatever the number of clicks.

A purchase is (buyer, product kind, item): a track for a user, a booking for its student. An ``OPEN#`` pointer
(payments table, ``pk=OPEN#<buyer>#<kind>#<item>#payment_intent, sk=OPEN``) remembers the current intent and its
*generation*; a request reuses it while Stripe says it is still payable for the same amount (or paid: then it is
the purchase's intent for good), and otherwise opens the next generation. The Stripe call carries
``<kind>-pi-<buyer>-<item>-g<generation>`` as idempotency key, so concurrent first requests (twenty clicks, two
tabs) get one intent from Stripe, and the pointer only moves to a newer generation (conditional write).

Confirming with a saved card (:meth:`PaymentIntents.confirm`) is keyed by the intent and the charge it last
tried (``latest_charge``): concurrent clicks on one attempt send one confirmation, so one charge; a retry after a
decline is a new attempt on the same intent.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict

from coursepay.billing.ledger import PaymentLedger
from coursepay.billing.payments import Payment, ProductKind
from coursepay.clock import iso_now
from coursepay.correlation import METADATA_KEY, trace_purchase
from coursepay.errors import ConditionFailed
from coursepay.storage.dynamo import DynamoTable
from coursepay.stripe_gateway.errors import stripe_errors
from coursepay.stripe_gateway.ids import id_of

if TYPE_CHECKING:
    import stripe

PAYABLE_INTENT_STATES = frozenset({"requires_payment_method", "requires_confirmation", "requires_action", "processing"})
PAID_INTENT_STATES = frozenset({"succeeded", "requires_capture"})
CHANNEL = "payment_intent"


class IntentOffer(BaseModel):
    """What a product kind sells through a PaymentIntent (amount and currency from the server, never the client)."""

    kind: ProductKind
    item_id: str
    name: str  # the intent's description and the payment's item name
    amount: int
    currency: str
    metadata: dict[str, str]  # the kind's own (e.g. track_id, booking_id), with kind/channel/user_id added
    params: dict[str, Any]  # Stripe parameters of the kind's own (payment methods, transfer group)


class IntentBuyer(BaseModel):
    user_id: str
    customer_id: str


class OpenedIntent(BaseModel):
    model_config = ConfigDict(arbitrary_types_allowed=True)

    intent: Any  # stripe.PaymentIntent
    reused: bool

    @property
    def paid(self) -> bool:
        return str(self.intent.status) in PAID_INTENT_STATES


class OpenIntents:
    def __init__(self, payments_table: str) -> None:
        self._table = DynamoTable(payments_table)

    @staticmethod
    def _key(buyer: str, kind: str, item_id: str) -> dict[str, str]:
        return {"pk": f"OPEN#{buyer}#{kind}#{item_id}#{CHANNEL}", "sk": "OPEN"}

    def get(self, buyer: str, kind: str, item_id: str) -> tuple[str, int] | None:
        item = self._table.get(self._key(buyer, kind, item_id))
        return (str(item["payment_id"]), int(item["generation"])) if item else None

    def advance(self, buyer: str, kind: str, item_id: str, generation: int, payment_id: str) -> None:
        # A concurrent request may have recorded this generation (or a newer one) already: that one stands.
        with contextlib.suppress(ConditionFailed):
            self._table.put({**self._key(buyer, kind, item_id), "payment_id": payment_id, "generation": generation,
                             "updated_at": iso_now()},
                            condition="attribute_not_exists(pk) OR generation < :g", values={":g": generation})


class PaymentIntents:
    def __init__(self, *, ledger: PaymentLedger, open_intents: OpenIntents,
                 stripe_client: Callable[[], stripe.StripeClient]) -> None:
        self._ledger = ledger
        self._open = open_intents
        self._stripe = stripe_client

    def current(self, buyer: IntentBuyer, offer: IntentOffer) -> OpenedIntent | None:
        """The purchase's intent if it is paid, or payable as offered; None when the next one must be opened."""
        found = self._current(buyer, offer)
        return found[0] if found else None

    def _current(self, buyer: IntentBuyer, offer: IntentOffer) -> tuple[OpenedIntent | None, int] | None:
        pointer = self._open.get(buyer.user_id, offer.kind, offer.item_id)
        if pointer is None:
            return None
        intent_id, generation = pointer
        with stripe_errors("read the current payment"):
            intent = self._stripe().v1.payment_intents.retrieve(intent_id)
        opened = OpenedIntent(intent=intent, reused=True)
        if opened.paid or (intent.status in PAYABLE_INTENT_STATES and intent.amount == offer.amount
                           and intent.currency == offer.currency):
            return opened, generation
        return None, generation

    def open(self, buyer: IntentBuyer, offer: IntentOffer) -> OpenedIntent:
        """The purchase's intent: the current one again (paid, or still payable as offered), or the next one."""
        found = self._current(buyer, offer)
        generation = 1
        if found is not None:
            opened, generation = found
            if opened is not None:
                return opened
            generation += 1
        key = f"{offer.kind}-pi-{buyer.user_id}-{offer.item_id}-g{generation}"
        correlation_id = trace_purchase(key)
        metadata = {**offer.metadata, "kind": offer.kind, "channel": CHANNEL, "user_id": buyer.user_id,
                    # the intent's Stripe events carry the purchase's trace back (coursepay.webhooks.relay)
                    METADATA_KEY: correlation_id}
        params = {**offer.params, "amount": offer.amount, "currency": offer.currency,
                  "customer": buyer.customer_id, "description": offer.name, "metadata": metadata}
        with stripe_errors("create the payment"):
            intent = self._stripe().v1.payment_intents.create(params=params,  # type: ignore[arg-type]
                                                              options={"idempotency_key": key[:255]})
        self._ledger.record(
            Payment(payment_id=intent.id, user_id=buyer.user_id, kind=offer.kind, item_id=offer.item_id,
                    item_name=offer.name, amount=offer.amount, currency=offer.currency,
                    stripe_customer_id=buyer.customer_id, stripe_payment_intent_id=intent.id,
                    correlation_id=correlation_id),
            actor=f"user:{buyer.user_id}")
        self._open.advance(buyer.user_id, offer.kind, offer.item_id, generation, intent.id)
        return OpenedIntent(intent=intent, reused=False)

    def confirm(self, intent: Any, payment_method_id: str, *, return_url: str | None = None) -> Any:
        """Confirm ``intent`` with one of the customer's saved cards, once per attempt (see the module doc). An
        intent that is paid, processing or waiting for 3-D Secure is returned as it is: its attempt is under way."""
        if intent.status not in ("requires_payment_method", "requires_confirmation"):
            return intent
        attempt = id_of(intent.latest_charge) or "first"
        params: dict[str, Any] = {"payment_method": payment_method_id}
        if return_url:
            params["return_url"] = return_url
        with stripe_errors("confirm the payment"):
            return self._stripe().v1.payment_intents.confirm(
                intent.id, params=params,  # type: ignore[arg-type]
                options={"idempotency_key": f"{intent.id}-confirm-after-{attempt}-{payment_method_id}"[:255]})
