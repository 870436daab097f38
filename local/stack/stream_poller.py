"""Lambda's DynamoDB stream event source mapping, locally: read the shard in order, filter, batch, invoke.

What it keeps of Lambda's rules: records the filter patterns (``FilterCriteria``, EventBridge pattern syntax,
matched by moto's own matcher) do not match are skipped; a batch is retried until it succeeds, and with
``ReportBatchItemFailures`` from its lowest failed sequence number on (a malformed report, or a function error,
retries the whole batch); after ``MaximumRetryAttempts`` retries the batch is skipped and its coordinates
(Lambda's ``DDBStreamBatchInfo`` message) go to the ``OnFailure`` queue. Not modelled: bisecting a failed batch
(``BisectBatchOnFunctionError``), several shards (moto keeps one per table), record age limits.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, cast

from moto.events.models import EventPattern

from local.stack.lambda_runtime import Invocation
from local.stack.poller_thread import PollerThread
from local.stack.sam import StreamEventSource

IDLE_WAIT_S = 0.25  # between empty reads (moto's GetRecords does not wait): Lambda polls a shard 4 times a second
MAX_BACKOFF_S = 2.0


def lambda_record(record: dict[str, Any], stream_arn: str) -> dict[str, Any]:
    """One record of the event Lambda builds from a GetRecords result (timestamps in epoch seconds)."""
    change = dict(record["dynamodb"])
    created = change.get("ApproximateCreationDateTime")
    if isinstance(created, datetime):
        change["ApproximateCreationDateTime"] = created.timestamp()
    return {**{key: value for key, value in record.items() if key != "dynamodb"}, "dynamodb": change,
            "eventSourceARN": stream_arn}


def first_failed(records: list[dict[str, Any]], invocation: Invocation, report_batch_item_failures: bool) -> int | None:
    """The index of the first record to retry (every one from it on is retried), or None when all succeeded."""
    if not invocation.ok:
        return 0
    response = invocation.payload
    if not report_batch_item_failures or response is None or response == {}:
        return None
    failures = response.get("batchItemFailures") if isinstance(response, dict) else ()
    if failures is None:
        return None
    if not isinstance(failures, list):
        return 0
    positions = {record["dynamodb"]["SequenceNumber"]: index for index, record in enumerate(records)}
    failed = []
    for failure in failures:
        identifier = failure.get("itemIdentifier") if isinstance(failure, dict) else None
        if identifier not in positions:
            return 0  # invalid report: the whole batch counts as failed
        failed.append(positions[identifier])
    return min(failed) if failed else None


class StreamPoller(PollerThread):
    """One stream event source mapping: a thread that feeds a table's stream records to a function."""

    def __init__(
        self,
        source: StreamEventSource,
        streams_client: Any,
        sqs_client: Any,
        invoke: Callable[[str, dict[str, Any]], Invocation],
        *,
        log: Callable[[str], None],
        retry_backoff_s: float = 0.1,
    ) -> None:
        table_name = source.stream_arn.split(":table/", 1)[1].split("/", 1)[0]
        super().__init__(thread_name=f"stream-{table_name}", label=f"[stream] {source.function}",
                         enabled=source.enabled, log=log)
        self.source = source
        self._streams = streams_client
        self._sqs = sqs_client
        self._invoke = invoke
        self._patterns = [EventPattern.load(pattern) for pattern in source.filter_patterns]
        shard = streams_client.describe_stream(StreamArn=source.stream_arn)["StreamDescription"]["Shards"][0]
        self._shard_id: str = shard["ShardId"]
        self._iterator: str = streams_client.get_shard_iterator(
            StreamArn=source.stream_arn, ShardId=self._shard_id, ShardIteratorType=source.starting_position
        )["ShardIterator"]
        self._pending: list[dict[str, Any]] = []  # read from the shard (as Lambda's records), passed the filter
        self._attempts = 0  # failed invocations of the batch at the head of _pending
        self._backoff_s = retry_backoff_s  # doubled per failed attempt, at most MAX_BACKOFF_S

    @property
    def pending(self) -> int:
        """Records read and not yet done (retries included)."""
        return len(self._pending)

    def poll_once(self) -> None:
        if len(self._pending) < self.source.batch_size:
            self._read()
        if not self._pending:
            self._stopping.wait(IDLE_WAIT_S)
            return
        batch = self._pending[: self.source.batch_size]
        invocation = self._invoke(self.source.function, {"Records": batch})
        failed_at = first_failed(batch, invocation, self.source.report_batch_item_failures)
        if failed_at is None:
            del self._pending[: len(batch)]
            self._attempts = 0
            return
        del self._pending[:failed_at]  # checkpoint: what succeeded before the first failure is done
        self._attempts += 1
        retries = self.source.maximum_retry_attempts
        if 0 <= retries < self._attempts:
            given_up = batch[failed_at:]
            self._send_on_failure(given_up)
            del self._pending[: len(given_up)]
            self._attempts = 0
            self._log(f"{self._label}: gave up on {len(given_up)} record(s) after {retries} retries")
            return
        self._log(f"{self._label}: {len(batch) - failed_at} of {len(batch)} record(s) failed; retrying")
        self._stopping.wait(min(MAX_BACKOFF_S, self._backoff_s * 2 ** (self._attempts - 1)))

    def _read(self) -> None:
        response = self._streams.get_records(ShardIterator=self._iterator, Limit=1000)
        self._iterator = response["NextShardIterator"]
        records = (lambda_record(record, self.source.stream_arn) for record in response.get("Records") or [])
        self._pending.extend(record for record in records if self._passes(record))

    def _passes(self, record: dict[str, Any]) -> bool:
        # moto types the matcher's argument as an EventBridge event; it matches any JSON object
        return not self._patterns or any(pattern.matches_event(cast(Any, record)) for pattern in self._patterns)

    def _send_on_failure(self, records: list[dict[str, Any]]) -> None:
        if not self.source.on_failure_queue_arn:
            return
        arrivals = [record["dynamodb"].get("ApproximateCreationDateTime") for record in records]
        message = {
            "version": "1.0",
            "timestamp": datetime.now(UTC).isoformat(),
            "requestContext": {"condition": "RetryAttemptsExhausted", "approximateInvokeCount": self._attempts,
                               "functionArn": self.source.function},
            "DDBStreamBatchInfo": {
                "shardId": self._shard_id,
                "startSequenceNumber": records[0]["dynamodb"]["SequenceNumber"],
                "endSequenceNumber": records[-1]["dynamodb"]["SequenceNumber"],
                "approximateArrivalOfFirstRecord": _iso(arrivals[0]),
                "approximateArrivalOfLastRecord": _iso(arrivals[-1]),
                "batchSize": len(records),
                "streamArn": self.source.stream_arn,
            },
        }
        queue_name = self.source.on_failure_queue_arn.rsplit(":", 1)[1]
        queue_url = self._sqs.get_queue_url(QueueName=queue_name)["QueueUrl"]
        self._sqs.send_message(QueueUrl=queue_url, MessageBody=json.dumps(message))


def _iso(epoch: Any) -> str | None:
    return datetime.fromtimestamp(epoch, UTC).isoformat() if isinstance(epoch, int | float) else None
