"""The fulfilment consumer: domain handling of Stripe events.

Dispatch has two levels (docs/engineering.md, "Adding a product kind"):
1. events that carry no product kind go by event type alone: money events (``charge.refunded``,
   ``charge.dispute.*``, ``refund.updated``) to the billing core, which finds the payment they concern and
   applies the kind's access policy (``coursepay.billing.money_events``); ``account.updated`` (a teacher's
   Connect account) to ``coursepay.bookings.fulfilment``; the booking lifecycle's ``booking.completed`` and
   ``booking.cancelled`` (the teacher's transfer, the policy's refund) to ``coursepay.bookings.settlement``;
2. every other event goes by (event type, the product kind the Stripe object carries in ``metadata.kind``)
   to the product context's handler. An event whose kind has no handler is recorded and acknowledged.

Why a consumer of the bus and not the webhook: docs/decisions.md.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, Protocol, cast

from coursepay.consumers.runner import EventConsumer
from coursepay.events.envelope import Envelope
from coursepay.events.handlers import EnvelopeHandler, KindHandlers, stripe_object
from coursepay.observability import logger
from coursepay.settings import FulfilmentSettings, load_settings
from coursepay.storage.idempotency import IdempotencyStore

if TYPE_CHECKING:
    from coursepay.billing.core import BillingCore
    from coursepay.billing.money_events import AccessPolicy
    from coursepay.bookings.fulfilment import PayoutAccountUpdates

CONSUMER_NAME = "fulfilment"


class ProductKind(Protocol):
    """What a product context's fulfilment module provides (``coursepay.subscriptions.fulfilment``,
    ``coursepay.tracks.fulfilment``): its Stripe event handlers and its access policy, both built on the core."""

    def handlers(self, settings: FulfilmentSettings, core: BillingCore) -> KindHandlers: ...

    def access_policy(self, settings: FulfilmentSettings, core: BillingCore) -> AccessPolicy: ...


def product_kinds() -> dict[str, ProductKind]:
    """Each product kind's fulfilment module; imported here, at first use, not at import time."""
    from coursepay.bookings import payment_fulfilment as bookings
    from coursepay.subscriptions import fulfilment as courses
    from coursepay.tracks import fulfilment as tracks

    return {"course": cast(ProductKind, courses), "track": cast(ProductKind, tracks),
            "booking": cast(ProductKind, bookings)}


def billing_core(settings: FulfilmentSettings) -> BillingCore:
    from coursepay.billing.core import BillingCore
    from coursepay.stripe_gateway.client import stripe_provider

    return BillingCore(payments_table=settings.payments_table, enrollments_table=settings.enrollments_table,
                       audit_table=settings.audit_table, event_bus_name=settings.event_bus_name,
                       stripe_client=stripe_provider(settings))


def payout_account_updates(settings: FulfilmentSettings) -> PayoutAccountUpdates:
    """Teachers' Connect accounts: kind-less events, dispatched by type like the billing core's."""
    from coursepay.bookings.fulfilment import PayoutAccountUpdates
    from coursepay.bookings.payouts_repository import PayoutAccountsRepository
    from coursepay.storage.audit import AuditTrail
    from coursepay.stripe_gateway.client import stripe_provider
    from coursepay.stripe_gateway.errors import stripe_errors

    stripe = stripe_provider(settings)

    def retrieve_account(account_id: str) -> dict[str, Any]:
        with stripe_errors("read the connected account"):
            return dict(stripe().v1.accounts.retrieve(account_id).to_dict())

    return PayoutAccountUpdates(PayoutAccountsRepository(settings.bookings_table), AuditTrail(settings.audit_table),
                                retrieve_account)


def kind_of(obj: dict[str, Any]) -> str | None:
    """The product kind, wherever this object type carries its metadata."""
    candidates: list[Any] = [obj.get("metadata")]
    parent = obj.get("parent") or {}
    candidates.append((parent.get("subscription_details") or {}).get("metadata"))
    candidates.append((obj.get("subscription_details") or {}).get("metadata"))
    for line in ((obj.get("lines") or {}).get("data") or [])[:1]:
        candidates.append(line.get("metadata"))
    for metadata in candidates:
        if isinstance(metadata, dict) and metadata.get("kind"):
            return str(metadata["kind"])
    return None


def dispatcher(handlers: KindHandlers) -> Callable[[str], EnvelopeHandler]:
    def for_type(event_type: str) -> EnvelopeHandler:
        def handle(envelope: Envelope) -> None:
            kind = kind_of(stripe_object(envelope))
            handler = handlers.get((event_type, kind or ""))
            if handler is None:
                logger.info("no fulfilment for this kind", event_type=event_type, kind=kind)
                return
            handler(envelope)
        return handle
    return for_type


def consumer_handlers(by_kind: KindHandlers, by_type: Mapping[str, EnvelopeHandler]) -> dict[str, EnvelopeHandler]:
    """One handler per event type: the billing core's for kind-less money events, else the kind dispatcher."""
    for_type = dispatcher(by_kind)
    handlers = {event_type: for_type(event_type) for event_type, _ in by_kind}
    overlap = set(handlers) & set(by_type)
    if overlap:
        raise ValueError(f"event types handled both by kind and by type: {sorted(overlap)}")
    return {**handlers, **by_type}


def build_consumer() -> EventConsumer:
    from coursepay.billing.summary import DailySummary

    settings = load_settings(FulfilmentSettings)
    core = billing_core(settings)
    kinds = product_kinds()
    by_kind: dict[tuple[str, str], EnvelopeHandler] = {}
    for module in kinds.values():
        by_kind.update(module.handlers(settings, core))
    money = core.money_events({kind: module.access_policy(settings, core) for kind, module in kinds.items()})
    from coursepay.bookings.settlement import booking_settlement

    # the ledger's own money events (LedgerSummaryRule) are counted into the admins' daily summary
    summary = DailySummary(settings.payments_table)
    by_type = {**money.handlers(), **payout_account_updates(settings).handlers(),
               **booking_settlement(settings, core).handlers(), **summary.handlers()}
    handlers = consumer_handlers(by_kind, by_type)
    return EventConsumer(CONSUMER_NAME, IdempotencyStore(settings.idempotency_table), handlers)
