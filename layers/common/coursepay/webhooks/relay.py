"""Store once: the one path by which a Stripe event enters coursepay, whoever found it (the webhook, the
reconciliation, a checkout-session recovery).

1. types coursepay does not act on (``events/catalogue.HANDLED_STRIPE_EVENT_TYPES``) are ignored;
2. the event is stored once (a conditional write on its id, which also tells a repeat: one call either way).

Nothing here publishes: the table's stream carries each new event to the publisher function
(``coursepay.webhooks.publication``), so answering Stripe costs one write (docs/decisions.md D14). An event
stored before is a duplicate whether or not it is published yet: its stream record is being (or was) published,
and if that gave up, the reconciliation's sweep of stuck events publishes it.
"""

from __future__ import annotations

from typing import Any, Literal

from coursepay.events.catalogue import HANDLED_STRIPE_EVENT_TYPES
from coursepay.webhooks.repository import StripeEventsRepository

RelayOutcome = Literal["recorded", "duplicate", "ignored"]


class StripeEventRelay:
    def __init__(self, events: StripeEventsRepository) -> None:
        self._events = events

    @classmethod
    def for_resources(cls, stripe_events_table: str) -> StripeEventRelay:
        return cls(StripeEventsRepository(stripe_events_table))

    def relay(self, event: dict[str, Any]) -> RelayOutcome:
        if event["type"] not in HANDLED_STRIPE_EVENT_TYPES:
            return "ignored"
        return "recorded" if self._events.record_once(event) is None else "duplicate"
