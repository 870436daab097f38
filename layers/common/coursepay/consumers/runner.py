"""Runs a consumer's per-type handlers over an SQS batch: partial batch failures (Powertools
BatchProcessor), and each envelope handled once per consumer (claim on ``<consumer>#<event id>``,
which is also the record of what the consumer received)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from coursepay import observability as figures
from coursepay.correlation import correlated
from coursepay.events.envelope import Envelope
from coursepay.events.handlers import EnvelopeHandler
from coursepay.observability import logger
from coursepay.storage.idempotency import IdempotencyStore


class EventConsumer:
    def __init__(self, name: str, store: IdempotencyStore, handlers: Mapping[str, EnvelopeHandler]) -> None:
        self.name = name
        self._store = store
        self._handlers = dict(handlers)

    def handle_record(self, record: SQSRecord) -> None:
        """One SQS message, counted as the consumer's success or failure (a failure is redelivered by SQS)."""
        try:
            self._consume(record)
        except Exception:
            figures.record(figures.CONSUMER_FAILED, Consumer=self.name)
            raise
        figures.record(figures.CONSUMER_SUCCEEDED, Consumer=self.name)

    def _consume(self, record: SQSRecord) -> None:
        envelope = Envelope.from_sqs_body(record.body)
        # every log line, envelope, payment and e-mail of this record carries the purchase's correlation id
        with correlated(envelope.correlation_id or envelope.id):
            self._handle(envelope, record)

    def _handle(self, envelope: Envelope, record: SQSRecord) -> None:
        handler = self._handlers.get(envelope.type)

        def act() -> str:
            if handler is not None:
                handler(envelope)
            return "handled"

        outcome = self._store.run_once(
            self.receipt_key(envelope.id), act,
            details={"consumer": self.name, "event_type": envelope.type, "event_source": envelope.source,
                     "message_id": record.message_id, "handled": handler is not None},
        )
        logger.info("event consumed", consumer=self.name, event_id=envelope.id, event_type=envelope.type,
                    duplicate=outcome is None, handled=handler is not None)

    def receipt_key(self, event_id: str) -> str:
        return f"{self.name}#{event_id}"

    def process(self, event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
        # Report every failure as an item failure, even when the whole batch fails: one behaviour to reason about.
        processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)
        response = process_partial_response(event=event, record_handler=self.handle_record, processor=processor,
                                            context=context)
        return dict(response)


LambdaHandler = Callable[[dict[str, Any], LambdaContext], dict[str, Any]]


def consumer_lambda_handler(build: Callable[[], EventConsumer]) -> LambdaHandler:
    """The Lambda entry point of a consumer function: the consumer is built once per container, at first use."""
    from functools import cache

    from coursepay.observability import metrics, tracer

    consumer = cache(build)

    @logger.inject_lambda_context
    @metrics.log_metrics
    @tracer.capture_lambda_handler
    def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
        return consumer().process(event, context)

    return lambda_handler
