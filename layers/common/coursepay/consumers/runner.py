"""Runs a consumer's per-type handlers over an SQS batch: partial batch failures (Powertools
BatchProcessor), and each envelope handled once per consumer (claim on ``<consumer>#<event id>``,
which is also the record of what the consumer received).

A message whose claim is busy (``ClaimBusy``: another invocation holds it, or one that was killed at its
timeout left it) fails, and is made visible again only when the claim's lease runs out: every retry before
then would find it busy again and use up one of the queue's receives. Without that, a queue whose
``maxReceiveCount`` receives pass sooner than a lease (the local stack's 2 s visibility timeout: about 10 s
for a 60 s lease) dead-letters the event of an invocation that timed out mid-claim."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from functools import cache
from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from coursepay import aws_clients
from coursepay import observability as figures
from coursepay.correlation import correlated
from coursepay.events.envelope import Envelope
from coursepay.events.handlers import EnvelopeHandler
from coursepay.observability import logger
from coursepay.storage.idempotency import ClaimBusy, IdempotencyStore

MAX_VISIBILITY_S = 43_200  # SQS's limit on a message's visibility timeout (12 hours)


class EventConsumer:
    def __init__(self, name: str, store: IdempotencyStore, handlers: Mapping[str, EnvelopeHandler]) -> None:
        self.name = name
        self._store = store
        self._handlers = dict(handlers)

    def handle_record(self, record: SQSRecord) -> None:
        """One SQS message, counted as the consumer's success or failure (a failure is redelivered by SQS)."""
        try:
            self._consume(record)
        except Exception as error:
            figures.record(figures.CONSUMER_FAILED, Consumer=self.name)
            if isinstance(error, ClaimBusy):
                _return_when_lease_ends(record, error.lease_until)
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


@cache
def _queue_url(queue_arn: str) -> str:
    _, _, _, _, account, name = queue_arn.split(":")
    return aws_clients.sqs().get_queue_url(QueueName=name, QueueOwnerAWSAccountId=account)["QueueUrl"]


def _return_when_lease_ends(record: SQSRecord, lease_until: int) -> None:
    """Hide the message until the busy claim's lease has run out (a second more: the lease is in whole seconds)."""
    from botocore.exceptions import BotoCoreError, ClientError

    delay = max(1, min(MAX_VISIBILITY_S, lease_until - int(time.time()) + 1))
    try:
        aws_clients.sqs().change_message_visibility(QueueUrl=_queue_url(record.event_source_arn),
                                                    ReceiptHandle=record.receipt_handle, VisibilityTimeout=delay)
    except (BotoCoreError, ClientError) as error:  # the message still returns, after the queue's own timeout
        logger.warning("busy message not deferred", message_id=record.message_id, error=repr(error))


LambdaHandler = Callable[[dict[str, Any], LambdaContext], dict[str, Any]]


def consumer_lambda_handler(build: Callable[[], EventConsumer]) -> LambdaHandler:
    """The Lambda entry point of a consumer function: the consumer is built once per container, at first use."""
    from coursepay.observability import metrics, tracer

    consumer = cache(build)

    @logger.inject_lambda_context
    @metrics.log_metrics
    @tracer.capture_lambda_handler
    def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
        return consumer().process(event, context)

    return lambda_handler
