"""Store once, then publish: the one path by which a Stripe event enters coursepay, whoever found it (the
webhook, the reconciliation, a checkout-session recovery).

1. types coursepay does not act on (``events/catalogue.HANDLED_STRIPE_EVENT_TYPES``) are ignored;
2. the event is stored once (conditional write on its id);
3. it is published to the bus in the v1 envelope and marked published.

A crash between 2 and 3 leaves it RECEIVED: the next relay of the same event (Stripe's retry, or the
reconciliation's sweep of stuck events) publishes it. Two relays racing on a RECEIVED event may both
publish it; consumers deduplicate by event id (docs/decisions.md D1). A relay of an event already
published changes nothing.
"""

from __future__ import annotations

from typing import Any, Literal

from coursepay.correlation import of_stripe_event
from coursepay.events.catalogue import HANDLED_STRIPE_EVENT_TYPES, STRIPE_SOURCE
from coursepay.events.envelope import Envelope
from coursepay.events.publisher import EventPublisher
from coursepay.webhooks.repository import PUBLISHED, StripeEventsRepository

RelayOutcome = Literal["published", "duplicate", "ignored"]


class StripeEventRelay:
    def __init__(self, events: StripeEventsRepository, publisher: EventPublisher) -> None:
        self._events = events
        self._publisher = publisher

    @classmethod
    def for_resources(cls, stripe_events_table: str, event_bus_name: str) -> StripeEventRelay:
        return cls(StripeEventsRepository(stripe_events_table), EventPublisher(event_bus_name))

    def relay(self, event: dict[str, Any]) -> RelayOutcome:
        if event["type"] not in HANDLED_STRIPE_EVENT_TYPES:
            return "ignored"
        if self._events.record_once(event) == PUBLISHED:
            return "duplicate"
        # the purchase's correlation id (the checkout's, from the object's metadata), not the relaying request's
        self._publisher.publish([Envelope(id=event["id"], source=STRIPE_SOURCE, type=event["type"],
                                          correlation_id=of_stripe_event(event), data=event)])
        self._events.mark_published(event["id"])
        return "published"
