"""POST /webhooks/stripe: the only code that speaks to Stripe's webhook; it never calls Stripe.

1. verify the signature over the raw body (tolerance from settings; 400 and nothing stored on failure);
2. ignore types coursepay does not act on (2xx, no effect);
3. store the event once (conditional write on its id);
4. publish it to the bus in the v1 envelope and mark it published.

A crash between 3 and 4 leaves it RECEIVED: Stripe's retry then publishes it (the bus may carry it
twice; consumers deduplicate by event id). A duplicate that was already published changes nothing.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any, Literal

from pydantic import BaseModel

from coursepay.events.catalogue import HANDLED_STRIPE_EVENT_TYPES, STRIPE_SOURCE
from coursepay.events.envelope import Envelope
from coursepay.events.publisher import EventPublisher
from coursepay.stripe_gateway.signature import InvalidSignature, verify_signature
from coursepay.webhooks.repository import PUBLISHED, StripeEventsRepository

Outcome = Literal["published", "duplicate", "ignored"]


class IngestResult(BaseModel):
    received: bool = True
    event_id: str | None = None
    outcome: Outcome


class StripeWebhookIngest:
    def __init__(self, events: StripeEventsRepository, publisher: EventPublisher, signing_secret: Callable[[], str],
                 *, tolerance_seconds: int, clock: Callable[[], float] = time.time) -> None:
        self._events = events
        self._publisher = publisher
        self._signing_secret = signing_secret
        self._tolerance = tolerance_seconds
        self._clock = clock

    def ingest(self, raw_body: bytes, signature_header: str | None) -> IngestResult:
        verify_signature(raw_body, signature_header, self._signing_secret(), tolerance=self._tolerance,
                         now=self._clock())
        event = _parse_event(raw_body)
        if event["type"] not in HANDLED_STRIPE_EVENT_TYPES:
            return IngestResult(event_id=event["id"], outcome="ignored")
        if not self._events.record_once(event) and self._events.status(event["id"]) == PUBLISHED:
            return IngestResult(event_id=event["id"], outcome="duplicate")
        self._publisher.publish([Envelope(id=event["id"], source=STRIPE_SOURCE, type=event["type"], data=event)])
        self._events.mark_published(event["id"])
        return IngestResult(event_id=event["id"], outcome="published")


def _parse_event(raw_body: bytes) -> dict[str, Any]:
    try:
        event = json.loads(raw_body)
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise InvalidSignature("the signed body is not JSON", field="body") from None
    if not (isinstance(event, dict) and isinstance(event.get("id"), str) and event["id"].startswith("evt_")
            and isinstance(event.get("type"), str) and isinstance(event.get("data"), dict)):
        raise InvalidSignature("the signed body is not a Stripe event", field="body")
    return event
