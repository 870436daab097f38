"""The one checkout path of every product kind: Stripe Checkout Sessions, at most one open per
(buyer, product kind, item, pricing).

A product kind describes what is sold as an :class:`Offer` (amount and currency from its catalogue, never
from the client); this module checks the redirect URLs, and makes or reuses the session:

* ``pk=OPEN#<buyer>#<kind>#<item>#<pricing>, sk=CHECKOUT`` (payments table) points at the buyer's current
  session, its *generation* and a fingerprint of what it sells and where it returns to;
* a repeated request (same fingerprint) gets the open session back; a changed one expires the old session at
  Stripe first, then opens the next generation; a completed one is a 409 (it is paid, or being paid);
* the Stripe call carries ``checkout-<buyer>-<kind>-<item>-<pricing>-g<generation>`` as idempotency key, so
  any number of concurrent first requests (double clicks, two tabs) get one session from Stripe, and the
  pointer only ever moves to a newer generation (conditional write).

A session that still completes for something the buyer owns is refunded (``coursepay.billing.duplicates``).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Literal, NamedTuple
from urllib.parse import urlsplit

from pydantic import BaseModel

from coursepay.billing.ledger import PaymentLedger
from coursepay.billing.payments import Payment
from coursepay.clock import iso_now
from coursepay.correlation import METADATA_KEY, trace_purchase
from coursepay.errors import ConditionFailed, Conflict, InvalidRequest
from coursepay.storage.batches import BatchRead, ConditionalPut, Slot, write_together
from coursepay.storage.dynamo import DynamoTable, Item
from coursepay.stripe_gateway.errors import stripe_errors

if TYPE_CHECKING:
    import stripe

SESSION_PLACEHOLDER = "{CHECKOUT_SESSION_ID}"
Channel = Literal["checkout", "signup"]


class Offer(BaseModel):
    """What a product kind sells, as its catalogue says (the server's amounts, never the client's)."""

    kind: str
    item_id: str
    name: str
    pricing: str  # "one_time" | "monthly"
    amount: int
    currency: str
    line_item: dict[str, Any]  # Stripe's line item: {"price": ...} or {"price_data": ...}
    metadata: dict[str, str]  # the kind's own metadata (e.g. course_id, track_id), put on every Stripe object

    @property
    def mode(self) -> str:
        return "subscription" if self.pricing == "monthly" else "payment"


class Buyer(BaseModel):
    """Who pays: a signed-in user (``user_id`` and their Stripe Customer) or an anonymous buyer, named by a
    key only (payment-first sign-up; Stripe collects the e-mail)."""

    key: str
    user_id: str | None = None
    customer_id: str | None = None


class OpenedSession(BaseModel):
    session_id: str
    url: str | None
    expires_at: int | None
    reused: bool


def _origin(url: str) -> str | None:
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.scheme not in ("https", "http") or not parts.hostname or parts.username or parts.password:
        return None
    return f"{parts.scheme}://{parts.netloc}".lower()


def check_redirect(url: str, field: str, allowed_origins: tuple[str, ...]) -> str:
    """The one redirect check: http(s), no credentials in the address, on a configured origin."""
    origin = _origin(url)
    if origin is None or origin not in {allowed.lower() for allowed in allowed_origins}:
        raise InvalidRequest("must be an http(s) address on one of the configured allowed origins", field=field)
    return url


def with_session_placeholder(url: str) -> str:
    """The success page learns its session id from Stripe's placeholder (added when the caller left it out)."""
    if SESSION_PLACEHOLDER in url:
        return url
    return f"{url}{'&' if '?' in url else '?'}session_id={SESSION_PLACEHOLDER}"


class OpenPointer(NamedTuple):
    """The buyer's current session for an offer: its id, generation and the fingerprint of what it sells."""

    session_id: str
    generation: int
    fingerprint: str


def _pointer(item: Item) -> OpenPointer:
    return OpenPointer(str(item["session_id"]), int(item["generation"]), str(item["fingerprint"]))


class OpenSessions:
    def __init__(self, payments_table: str) -> None:
        self._table = DynamoTable(payments_table)

    @staticmethod
    def _key(buyer_key: str, kind: str, item_id: str, pricing: str) -> dict[str, str]:
        return {"pk": f"OPEN#{buyer_key}#{kind}#{item_id}#{pricing}", "sk": "CHECKOUT"}

    def get(self, buyer_key: str, offer: Offer) -> OpenPointer | None:
        item = self._table.get(self._key(buyer_key, offer.kind, offer.item_id, offer.pricing))
        return _pointer(item) if item else None

    def want(self, batch: BatchRead, buyer_key: str, kind: str, item_id: str, pricing: str) -> Slot[OpenPointer]:
        return batch.want(self._table, self._key(buyer_key, kind, item_id, pricing), _pointer)

    def advance_put(self, buyer_key: str, offer: Offer, generation: int, session_id: str,
                    fingerprint: str) -> ConditionalPut:
        """The pointer moves only to a newer generation; its condition failing means that one stands already."""
        return ConditionalPut(self._table, {
            **self._key(buyer_key, offer.kind, offer.item_id, offer.pricing), "session_id": session_id,
            "generation": generation, "fingerprint": fingerprint, "updated_at": iso_now()},
            condition="attribute_not_exists(pk) OR generation < :g", values={":g": generation})

    def advance(self, buyer_key: str, offer: Offer, generation: int, session_id: str, fingerprint: str) -> None:
        # A concurrent request may have recorded this generation (or a newer one) already: that one stands.
        with contextlib.suppress(ConditionFailed):
            self.advance_put(buyer_key, offer, generation, session_id, fingerprint).apply()


class CheckoutSessions:
    def __init__(self, *, ledger: PaymentLedger, open_sessions: OpenSessions,
                 stripe_client: Callable[[], stripe.StripeClient], allowed_origins: tuple[str, ...]) -> None:
        self._ledger = ledger
        self._open = open_sessions
        self._stripe = stripe_client
        self._origins = allowed_origins

    def want_open_session(self, batch: BatchRead, buyer_key: str, kind: str, item_id: str,
                          pricing: str) -> Slot[OpenPointer]:
        """The buyer's current session pointer, read in the caller's batch and handed to :meth:`open` (``known``)."""
        return self._open.want(batch, buyer_key, kind, item_id, pricing)

    def check_urls(self, success_url: str, cancel_url: str) -> tuple[str, str]:
        return (with_session_placeholder(check_redirect(success_url, "success_url", self._origins)),
                check_redirect(cancel_url, "cancel_url", self._origins))

    def open(self, buyer: Buyer, offer: Offer, *, success_url: str, cancel_url: str, channel: Channel = "checkout",
             extra: dict[str, Any] | None = None, intent_data: dict[str, Any] | None = None,
             known: Slot[OpenPointer] | None = None) -> OpenedSession:
        """The buyer's open session for this offer: the same one again, or a new one (the old one expired).
        ``extra`` adds Checkout parameters of the kind's own (e.g. ``customer_creation`` for anonymous buyers),
        ``intent_data`` its own ``payment_intent_data`` (e.g. ``transfer_group``, ``setup_future_usage``);
        ``known`` is the session pointer when the caller read it already (:meth:`want_open_session`)."""
        success, cancel = self.check_urls(success_url, cancel_url)
        metadata = {**offer.metadata, "kind": offer.kind, "pricing": offer.pricing, "channel": channel,
                    **({"user_id": buyer.user_id} if buyer.user_id else {})}
        params: dict[str, Any] = {
            "mode": offer.mode, "line_items": [{**offer.line_item, "quantity": 1}],
            "success_url": success, "cancel_url": cancel, "metadata": metadata,
            "subscription_data" if offer.mode == "subscription" else "payment_intent_data": {
                "metadata": metadata, "description": offer.name, **(intent_data or {})},
            **(extra or {}),
        }
        if buyer.customer_id:
            params["customer"] = buyer.customer_id
        if buyer.user_id:
            params["client_reference_id"] = buyer.user_id
        fingerprint = hashlib.sha256(json.dumps(params, sort_keys=True).encode()).hexdigest()[:32]
        client = self._stripe()
        generation = 1
        current = known.value if known is not None else self._open.get(buyer.key, offer)
        if current is not None:
            session_id, generation, stored_fingerprint = current
            with stripe_errors("read the current checkout session"):
                session = client.v1.checkout.sessions.retrieve(session_id)
            if session.status == "complete":
                raise Conflict("this purchase is paid already, or its payment is being completed", field="item")
            if session.status == "open" and stored_fingerprint == fingerprint:
                return _opened(session, reused=True)
            if session.status == "open":
                self._expire(session_id)
            generation += 1
        key = f"checkout-{buyer.key}-{offer.kind}-{offer.item_id}-{offer.pricing}-g{generation}"
        correlation_id = trace_purchase(key)
        # not in the fingerprint (what is sold and where it returns to): the id names the attempt, its generation.
        # The Stripe events of the session and of its PaymentIntent or subscription carry it back (webhooks.relay).
        traced_metadata = {**metadata, METADATA_KEY: correlation_id}
        params["metadata"] = traced_metadata
        params["subscription_data" if offer.mode == "subscription" else "payment_intent_data"]["metadata"] = (
            traced_metadata)
        with stripe_errors("start the checkout", refused=InvalidRequest):
            session = client.v1.checkout.sessions.create(params=params,  # type: ignore[arg-type]
                                                         options={"idempotency_key": key[:255]})
        if offer.mode == "payment":
            self._record_pending(buyer, offer, generation, session.id, fingerprint, correlation_id)
        else:
            self._open.advance(buyer.key, offer, generation, session.id, fingerprint)
        return _opened(session, reused=False)

    def _record_pending(self, buyer: Buyer, offer: Offer, generation: int, session_id: str, fingerprint: str,
                        correlation_id: str) -> None:
        """The pending payment, its audit entry and the pointer to the session, in one transaction."""
        payment = Payment(
            payment_id=session_id, user_id=buyer.user_id, kind=offer.kind, item_id=offer.item_id,
            item_name=offer.name, pricing=offer.pricing, amount=offer.amount, currency=offer.currency,
            stripe_customer_id=buyer.customer_id, stripe_checkout_session_id=session_id,
            correlation_id=correlation_id)
        actor, action = f"user:{buyer.user_id}" if buyer.user_id else "anonymous", "payment.pending"
        try:
            write_together([*self._ledger.record_puts(payment, actor, action),
                            self._open.advance_put(buyer.key, offer, generation, session_id, fingerprint)])
        except ConditionFailed:
            # a repeat or a race (this session recorded already, or a newer generation pointed at): each write
            # alone, where a condition that fails means that what it protects holds already
            self._ledger.record(payment, actor, action=action)
            self._open.advance(buyer.key, offer, generation, session_id, fingerprint)

    def _expire(self, session_id: str) -> None:
        """A changed request replaces the open session: it must not stay payable beside the new one."""
        import stripe

        try:
            self._stripe().v1.checkout.sessions.expire(session_id)
        except stripe.InvalidRequestError:
            # no longer open: expired meanwhile is what we wanted; completed meanwhile is a purchase made
            with stripe_errors("read the current checkout session"):
                session = self._stripe().v1.checkout.sessions.retrieve(session_id)
            if session.status == "complete":
                raise Conflict("this purchase is paid already, or its payment is being completed",
                               field="item") from None


def _opened(session: Any, *, reused: bool) -> OpenedSession:
    return OpenedSession(session_id=session.id, url=session.url, expires_at=session.expires_at, reused=reused)
