"""The local stack's DynamoDB stream event source mapping (local/stack/stream_poller.py) over moto's streams:
order, partial batch failures, function errors, retries and the on-failure queue, as Lambda applies them."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import boto3
import pytest
from moto import mock_aws

from local.stack.lambda_runtime import Invocation
from local.stack.sam import StreamEventSource
from local.stack.stream_poller import StreamPoller

# the batch's keys and their sequence numbers -> the function's answer (an exception: a function error)
Handler = Callable[[list[str], dict[str, str]], Any]


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Any:
    for name, value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                        "AWS_DEFAULT_REGION": "us-east-1"}.items():
        monkeypatch.setenv(name, value)
    with mock_aws():
        session = boto3.Session(region_name="us-east-1")
        dynamodb = session.client("dynamodb")
        table = dynamodb.create_table(
            TableName="events", BillingMode="PAY_PER_REQUEST",
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
            StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"})["TableDescription"]
        queue_url = session.client("sqs").create_queue(QueueName="on-failure")["QueueUrl"]
        yield session, table["LatestStreamArn"], queue_url


def poller(aws: Any, handle: Handler, *, retries: int = 2, batch_size: int = 3,
           patterns: tuple[str, ...] = ()) -> tuple[StreamPoller, list[list[str]]]:
    session, stream_arn, _ = aws
    batches: list[list[str]] = []

    def invoke(function: str, event: dict[str, Any]) -> Invocation:
        keys = [record["dynamodb"]["Keys"]["pk"]["S"] for record in event["Records"]]
        sequences = {record["dynamodb"]["Keys"]["pk"]["S"]: record["dynamodb"]["SequenceNumber"]
                     for record in event["Records"]}
        batches.append(keys)
        try:
            payload = handle(keys, sequences)
        except Exception as error:
            return Invocation("r", False, {"errorType": type(error).__name__}, 0.0)
        return Invocation("r", True, payload, 0.0)

    source = StreamEventSource(
        function="Publisher", stream_arn=stream_arn, starting_position="TRIM_HORIZON", batch_size=batch_size,
        maximum_retry_attempts=retries, report_batch_item_failures=True, filter_patterns=patterns,
        on_failure_queue_arn="arn:aws:sqs:us-east-1:123456789012:on-failure")
    mapping = StreamPoller(source, session.client("dynamodbstreams"), session.client("sqs"), invoke,
                           log=lambda line: None, retry_backoff_s=0.0)
    return mapping, batches


def put(aws: Any, *keys: str) -> None:
    for key in keys:
        aws[0].client("dynamodb").put_item(TableName="events", Item={"pk": {"S": key}})


def drain(mapping: StreamPoller, polls: int = 20) -> None:
    for _ in range(polls):
        mapping.poll_once()
        if not mapping.pending:
            return


def on_failure_messages(aws: Any) -> list[dict[str, Any]]:
    session, _, queue_url = aws
    messages = session.client("sqs").receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10).get("Messages", [])
    return [json.loads(message["Body"]) for message in messages]


def test_records_arrive_in_order_in_batches_and_each_once(aws):
    mapping, batches = poller(aws, lambda keys, sequences: {"batchItemFailures": []})
    put(aws, "a", "b", "c", "d")
    drain(mapping)
    assert batches == [["a", "b", "c"], ["d"]]
    drain(mapping)
    assert batches == [["a", "b", "c"], ["d"]]  # nothing new: nothing invoked


def test_a_reported_failure_retries_from_it_and_what_came_before_it_is_done(aws):
    failed_once: set[str] = set()

    def handle(keys: list[str], sequences: dict[str, str]) -> Any:
        if "b" in keys and "b" not in failed_once:
            failed_once.add("b")
            return {"batchItemFailures": [{"itemIdentifier": sequences["b"]}]}
        return {"batchItemFailures": []}

    mapping, batches = poller(aws, handle)
    put(aws, "a", "b", "c")
    drain(mapping)
    assert batches == [["a", "b", "c"], ["b", "c"]]


@pytest.mark.parametrize("answer", ["error", {"batchItemFailures": [{"itemIdentifier": "not-a-sequence-number"}]},
                                    {"batchItemFailures": "b"}])
def test_a_function_error_or_a_malformed_report_retries_the_whole_batch(aws, answer):
    calls = []

    def handle(keys: list[str], sequences: dict[str, str]) -> Any:
        calls.append(keys)
        if len(calls) == 1:
            if answer == "error":
                raise RuntimeError("the function failed")
            return answer
        return None

    mapping, batches = poller(aws, handle)
    put(aws, "a", "b")
    drain(mapping)
    assert batches == [["a", "b"], ["a", "b"]]
    assert on_failure_messages(aws) == []


def test_after_the_retries_the_batch_goes_to_the_on_failure_queue_and_the_shard_moves_on(aws):
    def handle(keys: list[str], sequences: dict[str, str]) -> Any:
        if "poison" in keys:
            raise RuntimeError("cannot handle it")
        return None

    mapping, batches = poller(aws, handle, retries=2, batch_size=2)
    put(aws, "poison", "b", "c")
    drain(mapping)
    assert batches == [["poison", "b"]] * 3 + [["c"]]  # 1 attempt + 2 retries, then the shard goes on
    (message,) = on_failure_messages(aws)
    info = message["DDBStreamBatchInfo"]
    assert (info["batchSize"], info["streamArn"]) == (2, aws[1])
    assert int(info["startSequenceNumber"]) < int(info["endSequenceNumber"])
    assert message["requestContext"]["condition"] == "RetryAttemptsExhausted"


def test_records_the_filter_does_not_match_are_skipped(aws):
    pattern = json.dumps({"eventName": ["INSERT"], "dynamodb": {"Keys": {"pk": {"S": [{"prefix": "evt_"}]}}}})
    mapping, batches = poller(aws, lambda keys, sequences: None, patterns=(pattern,))
    put(aws, "evt_1", "checkpoint", "evt_2")
    put(aws, "evt_1")  # a MODIFY of evt_1
    drain(mapping)
    assert batches == [["evt_1", "evt_2"]]
