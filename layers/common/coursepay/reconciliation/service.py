"""One reconciliation run.

1. List the handled Stripe event types created since ``checkpoint - overlap`` (or ``since``, given by the
   operator; a first run looks back ``first_run_lookback``), and relay each one oldest first: the relay
   stores what was never stored (the table's stream publishes it); what is stored is a duplicate (no effect).
2. Move the checkpoint to the newest ``created`` relayed, every page of events and at the end (so a run
   stopped by its time budget keeps its progress); never backwards.
3. Publish the stored events RECEIVED for longer than ``stuck_after`` (their stream record failed every
   retry), found through the sparse index of unpublished events.

Running it twice, or two runs at once, changes nothing more: step 1 goes through the relay's store-once
write, and consumers deduplicate by event id what step 3 (or the stream, late) publishes twice.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from pydantic import BaseModel

from coursepay.clock import iso_time, utc_now
from coursepay.events.catalogue import HANDLED_STRIPE_EVENT_TYPES
from coursepay.events.publisher import EventPublisher
from coursepay.reconciliation.checkpoint import ReconciliationCheckpoint
from coursepay.reconciliation.stripe_events import PAGE_SIZE, list_events
from coursepay.settings import ReconciliationSettings
from coursepay.stripe_gateway.client import stripe_provider
from coursepay.webhooks.publication import StripeEventPublication
from coursepay.webhooks.relay import StripeEventRelay
from coursepay.webhooks.repository import StripeEventsRepository

if TYPE_CHECKING:
    import stripe


class ReconciliationReport(BaseModel):
    since: int  # created[gte] asked of Stripe (unix seconds)
    listed: int  # events Stripe returned
    relayed: int  # of those, stored now (never stored before; the stream publishes them)
    already_stored: int  # of those, stored before: no effect
    ignored: int  # of those, of a type coursepay does not act on
    stuck_republished: int  # stored events RECEIVED too long, published now
    checkpoint: int | None  # newest event created time reached (the next run's starting point)
    complete: bool  # False when the time budget ran out before every listed event was relayed


class StripeEventReconciler:
    def __init__(self, stripe_client: Callable[[], stripe.StripeClient], relay: StripeEventRelay,
                 events: StripeEventsRepository, publication: StripeEventPublication,
                 checkpoint: ReconciliationCheckpoint, *, overlap_seconds: int,
                 first_run_lookback_seconds: int, stuck_after_seconds: int,
                 clock: Callable[[], datetime] = utc_now) -> None:
        self._stripe = stripe_client
        self._relay = relay
        self._events = events
        self._publication = publication
        self._checkpoint = checkpoint
        self._overlap = overlap_seconds
        self._first_lookback = first_run_lookback_seconds
        self._stuck_after = stuck_after_seconds
        self._clock = clock

    @classmethod
    def from_settings(cls, settings: ReconciliationSettings) -> StripeEventReconciler:
        events = StripeEventsRepository(settings.stripe_events_table)
        return cls(
            stripe_provider(settings),
            StripeEventRelay(events),
            events,
            StripeEventPublication(events, EventPublisher(settings.event_bus_name)),
            ReconciliationCheckpoint(settings.stripe_events_table),
            overlap_seconds=settings.reconciliation_overlap_seconds,
            first_run_lookback_seconds=settings.reconciliation_first_run_lookback_seconds,
            stuck_after_seconds=settings.reconciliation_stuck_after_seconds,
        )

    def run(self, *, since: int | None = None, out_of_time: Callable[[], bool] = lambda: False) -> ReconciliationReport:
        start = since if since is not None else self._default_since()
        listed = list_events(self._stripe, types=HANDLED_STRIPE_EVENT_TYPES, created_gte=start)
        outcomes: Counter[str] = Counter()
        newest: int | None = None
        complete = True
        for position, event in enumerate(listed, start=1):
            if out_of_time():
                complete = False
                break
            outcomes[self._relay.relay(event)] += 1
            newest = int(event.get("created") or 0)
            if position % PAGE_SIZE == 0:
                self._checkpoint.advance(newest)
        if newest is not None:
            self._checkpoint.advance(newest)
        stuck = self._republish_stuck(out_of_time) if complete else 0
        return ReconciliationReport(
            since=start, listed=len(listed), relayed=outcomes["recorded"], already_stored=outcomes["duplicate"],
            ignored=outcomes["ignored"], stuck_republished=stuck, checkpoint=self._checkpoint.newest_created(),
            complete=complete)

    def _default_since(self) -> int:
        checkpoint = self._checkpoint.newest_created()
        if checkpoint is None:
            return int((self._clock() - timedelta(seconds=self._first_lookback)).timestamp())
        return checkpoint - self._overlap

    def _republish_stuck(self, out_of_time: Callable[[], bool]) -> int:
        received_before = iso_time(self._clock() - timedelta(seconds=self._stuck_after))
        republished = 0
        for event in self._events.unpublished_before(received_before):
            if out_of_time():
                break
            self._publication.publish(event)
            republished += 1
        return republished
