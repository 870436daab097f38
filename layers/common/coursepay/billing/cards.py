"""A user's saved cards: PaymentMethods attached to their one Stripe Customer (``coursepay.billing.customers``).

A card is saved by the frontend, never by this API: ``setup`` creates a SetupIntent (``usage=off_session``, so a
card that asks for 3-D Secure once at setup can be charged later without asking again) and returns its
``client_secret`` with the publishable key; the browser confirms it with Stripe.js (``stripe.confirmCardSetup``),
and Stripe attaches the card to the customer. Listing, choosing the default
(``invoice_settings.default_payment_method``) and removing (detach) act only on PaymentMethods attached to the
caller's own customer: anyone else's, or an id that does not exist, is the same 404.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel

from coursepay.billing.customers import CustomerDirectory
from coursepay.errors import NotFound
from coursepay.identity import Principal
from coursepay.storage.audit import AuditEntry, AuditTrail
from coursepay.stripe_gateway.errors import stripe_errors
from coursepay.stripe_gateway.ids import id_of

if TYPE_CHECKING:
    import stripe

PAYMENT_METHOD_ID = re.compile(r"^pm_[A-Za-z0-9_]{1,200}$")
LIST_LIMIT = 100  # Stripe's page maximum; nobody keeps more cards than that


class CardSetup(BaseModel):
    setup_intent_id: str
    client_secret: str
    publishable_key: str


class SavedCard(BaseModel):
    payment_method_id: str
    brand: str
    last4: str
    exp_month: int
    exp_year: int
    default: bool


class SavedCards:
    def __init__(self, customers: CustomerDirectory, stripe_client: Callable[[], stripe.StripeClient],
                 publishable_key: Callable[[], str], audit: AuditTrail,
                 contact_of: Callable[[Principal], tuple[str, str | None]]) -> None:
        """``contact_of`` gives the e-mail and name a new Stripe Customer is created with."""
        self._customers = customers
        self._stripe = stripe_client
        self._publishable_key = publishable_key
        self._audit = audit
        self._contact_of = contact_of

    def setup(self, principal: Principal) -> CardSetup:
        email, name = self._contact_of(principal)
        customer_id = self._customers.ensure_customer(principal.user_id, email, name)
        with stripe_errors("start saving a card"):
            intent = self._stripe().v1.setup_intents.create(params={
                "customer": customer_id, "usage": "off_session", "payment_method_types": ["card"],
                "metadata": {"user_id": principal.user_id}})  # type: ignore[arg-type]
        self._audit.record(AuditEntry(entity=f"cards#{principal.user_id}", action="cards.setup_started",
                                      actor=f"user:{principal.user_id}", after={"setup_intent_id": intent.id}))
        return CardSetup(setup_intent_id=intent.id, client_secret=str(intent.client_secret),
                         publishable_key=self._publishable_key())

    def list(self, principal: Principal) -> list[SavedCard]:
        customer_id = self._customers.customer_id_of(principal.user_id)
        if customer_id is None:
            return []
        client = self._stripe()
        with stripe_errors("list the saved cards"):
            methods = client.v1.customers.payment_methods.list(customer_id,
                                                               params={"type": "card", "limit": LIST_LIMIT})
            default = _default_of(client.v1.customers.retrieve(customer_id))
        return [_card_view(method, default) for method in methods.data if method.card is not None]

    def owned(self, principal: Principal, payment_method_id: str) -> str:
        """The caller's customer when the PaymentMethod is attached to it; otherwise a 404 (whoever owns it)."""
        customer_id = self._customers.customer_id_of(principal.user_id)
        if customer_id is None or not PAYMENT_METHOD_ID.match(payment_method_id):
            raise _no_card(payment_method_id)
        with stripe_errors("read the card", refused=NotFound):
            method = self._stripe().v1.payment_methods.retrieve(payment_method_id)
        if id_of(method.customer) != customer_id:
            raise _no_card(payment_method_id)
        return customer_id

    def make_default(self, principal: Principal, payment_method_id: str) -> SavedCard:
        customer_id = self.owned(principal, payment_method_id)
        client = self._stripe()
        with stripe_errors("make the card the default"):
            client.v1.customers.update(customer_id, params={
                "invoice_settings": {"default_payment_method": payment_method_id}})
            method = client.v1.payment_methods.retrieve(payment_method_id)
        self._audit.record(AuditEntry(entity=f"cards#{principal.user_id}", action="cards.default_changed",
                                      actor=f"user:{principal.user_id}",
                                      after={"payment_method_id": payment_method_id}))
        return _card_view(method, payment_method_id)

    def remove(self, principal: Principal, payment_method_id: str) -> None:
        self.owned(principal, payment_method_id)
        with stripe_errors("remove the card"):
            # Stripe clears the customer's default when it is the card detached
            self._stripe().v1.payment_methods.detach(payment_method_id)
        self._audit.record(AuditEntry(entity=f"cards#{principal.user_id}", action="cards.removed",
                                      actor=f"user:{principal.user_id}",
                                      after={"payment_method_id": payment_method_id}))


def _no_card(payment_method_id: str) -> NotFound:
    return NotFound(f"no saved card {payment_method_id}", field="pmId")



def _default_of(customer: Any) -> str | None:
    settings = customer.invoice_settings
    return id_of(settings.default_payment_method) if settings is not None else None


def _card_view(method: Any, default: str | None) -> SavedCard:
    card = method.card
    return SavedCard(payment_method_id=method.id, brand=str(card.brand), last4=str(card.last4),
                     exp_month=int(card.exp_month), exp_year=int(card.exp_year), default=method.id == default)
