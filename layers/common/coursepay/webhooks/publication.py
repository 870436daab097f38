"""Publishing stored Stripe events to the bus: the StripeEventsTable's stream feeds the publisher function.

The webhook's answer to Stripe is one conditional write (``coursepay.webhooks.relay``); the table's stream
carries each new event (an ``INSERT`` of an ``evt_`` item; the filter is in template.yaml) to
``StripeEventsPublisherFunction``, which puts it on the bus in the v1 envelope and marks it published. A record
that fails is retried by Lambda (partial batch failures: only it and what follows it in the shard); after the
retries its batch's coordinates go to ``StripeEventsPublisherDLQ``, and the event stays ``RECEIVED``, so the
reconciliation's sweep of stuck events publishes it (docs/decisions.md D14). Publishing twice is harmless:
consumers deduplicate by event id (D1).
"""

from __future__ import annotations

import json
from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from coursepay.correlation import correlated, of_stripe_event
from coursepay.events.catalogue import STRIPE_SOURCE
from coursepay.events.envelope import Envelope
from coursepay.events.publisher import EventPublisher
from coursepay.observability import logger
from coursepay.webhooks.repository import StripeEventsRepository


class StripeEventPublication:
    def __init__(self, events: StripeEventsRepository, publisher: EventPublisher) -> None:
        self._events = events
        self._publisher = publisher

    @classmethod
    def for_resources(cls, stripe_events_table: str, event_bus_name: str) -> StripeEventPublication:
        return cls(StripeEventsRepository(stripe_events_table), EventPublisher(event_bus_name))

    def publish(self, event: dict[str, Any]) -> None:
        """Put one stored Stripe event on the bus, then mark it published (it leaves the stuck-events index)."""
        # the purchase's correlation id (the checkout's, from the object's metadata), not the relaying request's
        self._publisher.publish([Envelope(id=event["id"], source=STRIPE_SOURCE, type=event["type"],
                                          correlation_id=of_stripe_event(event), data=event)])
        self._events.mark_published(event["id"])

    def publish_stream_record(self, record: DynamoDBRecord) -> None:
        image = (record.dynamodb.new_image if record.dynamodb else None) or {}
        payload = image.get("payload")
        if not isinstance(payload, str):
            # a stream record without the stored event cannot be published: fail it, so it reaches the DLQ
            raise ValueError(f"stream record {record.event_id} holds no stored Stripe event")
        event = json.loads(payload)
        with correlated(of_stripe_event(event)):
            self.publish(event)
            logger.info("stripe event published", event_id=event["id"], event_type=event["type"])

    def process_stream(self, event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
        # Every failure is an item failure: Lambda retries from the first failed record of the shard.
        processor = BatchProcessor(event_type=EventType.DynamoDBStreams, raise_on_entire_batch_failure=False)
        response = process_partial_response(event=event, record_handler=self.publish_stream_record,
                                            processor=processor, context=context)
        return dict(response)
