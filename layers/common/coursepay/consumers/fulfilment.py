"""The fulfilment consumer: domain handling of Stripe events, dispatched by event type and by the
product kind the Stripe object carries in ``metadata.kind`` ("course", "track", "gig").

Each product context contributes a ``{(event_type, kind): handler}`` map; an event whose kind has no
handler is recorded and acknowledged. Why a consumer of the bus and not the webhook: docs/decisions.md.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from coursepay.consumers.runner import EnvelopeHandler, EventConsumer
from coursepay.events.envelope import Envelope
from coursepay.observability import logger
from coursepay.settings import FulfilmentSettings, load_settings
from coursepay.storage.idempotency import IdempotencyStore

CONSUMER_NAME = "fulfilment"

KindHandlers = Mapping[tuple[str, str], EnvelopeHandler]


def handler_factories() -> list[Callable[[FulfilmentSettings], KindHandlers]]:
    """Each product context's ``handlers(settings)``; imported here, at first use, not at import time."""
    from coursepay.subscriptions import fulfilment as courses
    from coursepay.tracks import fulfilment as tracks

    return [courses.handlers, tracks.handlers]


def stripe_object(envelope: Envelope) -> dict[str, Any]:
    data = envelope.data.get("data", {})
    obj = data.get("object") if isinstance(data, dict) else None
    return obj if isinstance(obj, dict) else {}


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


def build_consumer() -> EventConsumer:
    settings = load_settings(FulfilmentSettings)
    handlers: dict[tuple[str, str], EnvelopeHandler] = {}
    for factory in handler_factories():
        handlers.update(factory(settings))
    for_type = dispatcher(handlers)
    by_type = {event_type: for_type(event_type) for event_type, _ in handlers}
    return EventConsumer(CONSUMER_NAME, IdempotencyStore(settings.idempotency_table), by_type)
