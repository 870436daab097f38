"""Lambda's SQS event source mapping, locally: long-poll, batch, invoke, delete what succeeded.

A failed invocation leaves every message of the batch on the queue: it becomes visible again after the
queue's VisibilityTimeout and, after ``maxReceiveCount`` receives, moto moves it to the dead-letter queue on
the next receive (as SQS does). With ``ReportBatchItemFailures`` only the messages the function did not
report in ``batchItemFailures`` are deleted; a malformed report fails the whole batch (Lambda's rules).
"""

from __future__ import annotations

import base64
import time
from collections.abc import Callable
from typing import Any

from local.stack.lambda_runtime import Invocation
from local.stack.poller_thread import PollerThread
from local.stack.sam import SqsEventSource

MAX_RECEIVE = 10  # SQS's ReceiveMessage limit
LONG_POLL_S = 1  # short enough that stop() is prompt


def sqs_record(message: dict[str, Any], queue_arn: str, region: str) -> dict[str, Any]:
    """One record of the SQS event Lambda builds from a ReceiveMessage result."""
    record: dict[str, Any] = {
        "messageId": message["MessageId"],
        "receiptHandle": message["ReceiptHandle"],
        "body": message["Body"],
        "attributes": dict(message.get("Attributes") or {}),
        "messageAttributes": {
            name: _message_attribute(value) for name, value in (message.get("MessageAttributes") or {}).items()
        },
        "md5OfBody": message["MD5OfBody"],
        "eventSource": "aws:sqs",
        "eventSourceARN": queue_arn,
        "awsRegion": region,
    }
    if "MD5OfMessageAttributes" in message:
        record["md5OfMessageAttributes"] = message["MD5OfMessageAttributes"]
    return record


def _message_attribute(value: dict[str, Any]) -> dict[str, Any]:
    attribute: dict[str, Any] = {
        "stringListValues": list(value.get("StringListValues") or []),
        "binaryListValues": [base64.b64encode(item).decode() for item in value.get("BinaryListValues") or []],
        "dataType": value["DataType"],
    }
    if "StringValue" in value:
        attribute["stringValue"] = value["StringValue"]
    if "BinaryValue" in value:
        attribute["binaryValue"] = base64.b64encode(value["BinaryValue"]).decode()
    return attribute


def succeeded_records(
    records: list[dict[str, Any]], invocation: Invocation, report_batch_item_failures: bool
) -> list[dict[str, Any]]:
    """The records to delete after an invocation, following Lambda's partial batch response rules."""
    if not invocation.ok:
        return []
    if not report_batch_item_failures:
        return list(records)
    response = invocation.payload
    if response is None or response == {}:
        return list(records)
    if not isinstance(response, dict):
        return []
    failures = response.get("batchItemFailures")
    if failures is None:
        return list(records)
    if not isinstance(failures, list):
        return []
    ids = {record["messageId"] for record in records}
    failed: set[str] = set()
    for failure in failures:
        identifier = failure.get("itemIdentifier") if isinstance(failure, dict) else None
        if not isinstance(identifier, str) or not identifier or identifier not in ids:
            return []  # invalid report: the whole batch counts as failed
        failed.add(identifier)
    return [record for record in records if record["messageId"] not in failed]


class SqsPoller(PollerThread):
    """One event source mapping: a thread that feeds a queue's messages to a function."""

    def __init__(
        self,
        source: SqsEventSource,
        sqs_client: Any,
        invoke: Callable[[str, dict[str, Any]], Invocation],
        *,
        region: str,
        log: Callable[[str], None],
    ) -> None:
        queue_name = source.queue_arn.rsplit(":", 1)[1]
        super().__init__(thread_name=f"sqs-{queue_name}", label=f"[sqs] {source.function}", enabled=source.enabled,
                         log=log)
        self.source = source
        self._sqs = sqs_client
        self._invoke = invoke
        self._region = region
        self.queue_url: str = sqs_client.get_queue_url(QueueName=queue_name)["QueueUrl"]

    def poll_once(self) -> None:
        messages = self._next_batch()
        if messages and not self._stopping.is_set():
            self._process(messages)

    def _receive(self, count: int, wait_s: int) -> list[dict[str, Any]]:
        response = self._sqs.receive_message(
            QueueUrl=self.queue_url,
            MaxNumberOfMessages=max(1, min(MAX_RECEIVE, count)),
            WaitTimeSeconds=wait_s,
            MessageSystemAttributeNames=["All"],
            MessageAttributeNames=["All"],
        )
        return list(response.get("Messages") or [])

    def _next_batch(self) -> list[dict[str, Any]]:
        messages = self._receive(self.source.batch_size, LONG_POLL_S)
        if not messages:
            return []
        # Batching window: keep gathering until the batch is full or the window has passed.
        deadline = time.monotonic() + self.source.batching_window_s
        while len(messages) < self.source.batch_size and not self._stopping.is_set():
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            more = self._receive(self.source.batch_size - len(messages), 1 if remaining >= 1 else 0)
            messages.extend(more)
            if not more and remaining < 1:
                self._stopping.wait(min(remaining, 0.2))
        return messages

    def _process(self, messages: list[dict[str, Any]]) -> None:
        records = [sqs_record(message, self.source.queue_arn, self._region) for message in messages]
        invocation = self._invoke(self.source.function, {"Records": records})
        done = succeeded_records(records, invocation, self.source.report_batch_item_failures)
        if not invocation.ok:
            error = invocation.payload.get("errorType") if isinstance(invocation.payload, dict) else "?"
            self._log(f"[sqs] {self.source.function}: batch of {len(records)} failed ({error}); left on the queue")
        elif len(done) < len(records):
            self._log(f"[sqs] {self.source.function}: {len(records) - len(done)} of {len(records)} failed; kept")
        for start in range(0, len(done), MAX_RECEIVE):
            chunk = done[start : start + MAX_RECEIVE]
            self._sqs.delete_message_batch(
                QueueUrl=self.queue_url,
                Entries=[{"Id": str(index), "ReceiptHandle": r["receiptHandle"]} for index, r in enumerate(chunk)],
            )
