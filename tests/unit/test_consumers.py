"""Bus consumers: SQS batches, partial batch failures, each event handled once (moto in-process)."""

from __future__ import annotations

import json
import time
import uuid

import pytest

from coursepay.consumers.runner import EventConsumer
from coursepay.events.envelope import Envelope
from coursepay.storage.idempotency import IdempotencyStore


def sqs_record(body: str) -> dict:
    return {
        "messageId": str(uuid.uuid4()), "receiptHandle": "rh", "body": body,
        "attributes": {"ApproximateReceiveCount": "1", "SentTimestamp": str(int(time.time() * 1000)),
                       "SenderId": "events", "ApproximateFirstReceiveTimestamp": str(int(time.time() * 1000))},
        "messageAttributes": {}, "md5OfBody": "", "eventSource": "aws:sqs",
        "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:queue", "awsRegion": "us-east-1",
    }


def bus_message(envelope: Envelope) -> str:
    """An EventBridge event as its SQS target receives it."""
    return json.dumps({"version": "0", "id": str(uuid.uuid4()), "detail-type": envelope.type,
                       "source": envelope.source, "account": "123456789012", "time": envelope.occurred_at,
                       "region": "us-east-1", "resources": [], "detail": json.loads(envelope.model_dump_json())})


def envelope(event_id: str = "evt_42", event_type: str = "payment_intent.succeeded") -> Envelope:
    return Envelope(id=event_id, source="coursepay.stripe", type=event_type, data={"id": event_id})


@pytest.mark.parametrize(("logical_id", "directory"), [("ProvisioningFunction", "provisioning"),
                                                        ("NotificationsFunction", "notifications"),
                                                        ("FulfilmentFunction", "fulfilment")])
def test_each_consumer_records_what_it_received_once(load_function, lambda_context, aws, logical_id, directory):
    consumer = load_function(logical_id, directory)
    message = {"Records": [sqs_record(bus_message(envelope()))]}
    assert consumer.lambda_handler(message, lambda_context) == {"batchItemFailures": []}
    assert consumer.lambda_handler(message, lambda_context) == {"batchItemFailures": []}
    receipt = aws.table("IdempotencyTable").get_item(Key={"pk": f"{directory}#evt_42"})["Item"]
    assert receipt["status"] == "COMPLETED"
    assert receipt["event_type"] == "payment_intent.succeeded"
    assert receipt["consumer"] == directory


def test_a_malformed_message_fails_alone_in_its_batch(load_function, lambda_context, aws):
    consumer = load_function("ProvisioningFunction", "provisioning")
    good, not_json, old_version = (sqs_record(bus_message(envelope())), sqs_record("{nope"),
                                   sqs_record(json.dumps({"detail": {"version": "0", "id": "x"}})))
    response = consumer.lambda_handler({"Records": [good, not_json, old_version]}, lambda_context)
    assert response == {"batchItemFailures": [{"itemIdentifier": not_json["messageId"]},
                                              {"itemIdentifier": old_version["messageId"]}]}
    assert aws.table("IdempotencyTable").get_item(Key={"pk": "provisioning#evt_42"})["Item"]["status"] == "COMPLETED"


def test_a_handler_runs_once_per_event_even_when_the_message_is_delivered_twice(aws, lambda_context):
    calls: list[str] = []
    consumer = EventConsumer("probe", IdempotencyStore(aws.name("IdempotencyTable")),
                             {"payment_intent.succeeded": lambda env: calls.append(env.id)})
    first = sqs_record(bus_message(envelope()))
    second = sqs_record(bus_message(envelope()))  # same event, new message (the bus delivered it twice)
    assert consumer.process({"Records": [first, second]}, lambda_context) == {"batchItemFailures": []}
    assert calls == ["evt_42"]


def test_a_failing_handler_reports_the_item_and_releases_its_claim_for_the_retry(aws, lambda_context):
    attempts: list[str] = []

    def flaky(env: Envelope) -> None:
        attempts.append(env.id)
        if len(attempts) == 1:
            raise RuntimeError("downstream hiccup")

    consumer = EventConsumer("probe", IdempotencyStore(aws.name("IdempotencyTable")),
                             {"payment_intent.succeeded": flaky})
    record = sqs_record(bus_message(envelope()))
    assert consumer.process({"Records": [record]}, lambda_context) == {
        "batchItemFailures": [{"itemIdentifier": record["messageId"]}]}
    assert aws.table("IdempotencyTable").get_item(Key={"pk": "probe#evt_42"}).get("Item") is None
    assert consumer.process({"Records": [record]}, lambda_context) == {"batchItemFailures": []}
    assert attempts == ["evt_42", "evt_42"]


def test_an_event_claimed_by_a_live_worker_is_retried_later(aws, lambda_context):
    calls: list[str] = []
    store = IdempotencyStore(aws.name("IdempotencyTable"))
    aws.table("IdempotencyTable").put_item(Item={"pk": "probe#evt_42", "status": "IN_PROGRESS",
                                                 "lease_until": int(time.time()) + 60})
    consumer = EventConsumer("probe", store, {"payment_intent.succeeded": lambda env: calls.append(env.id)})
    record = sqs_record(bus_message(envelope()))
    assert consumer.process({"Records": [record]}, lambda_context) == {
        "batchItemFailures": [{"itemIdentifier": record["messageId"]}]}
    assert calls == []


def test_an_abandoned_claim_is_taken_over_after_its_lease(aws, lambda_context):
    calls: list[str] = []
    aws.table("IdempotencyTable").put_item(Item={"pk": "probe#evt_42", "status": "IN_PROGRESS",
                                                 "lease_until": int(time.time()) - 1})
    consumer = EventConsumer("probe", IdempotencyStore(aws.name("IdempotencyTable")),
                             {"payment_intent.succeeded": lambda env: calls.append(env.id)})
    assert consumer.process({"Records": [sqs_record(bus_message(envelope()))]}, lambda_context) == {
        "batchItemFailures": []}
    assert calls == ["evt_42"]


def test_a_message_whose_claim_a_timed_out_invocation_left_returns_after_the_lease_not_to_the_dlq(aws, lambda_context):
    """A consumer killed at its timeout leaves its claim IN_PROGRESS until the lease ends. Here the queue's
    receives (2, 1 s apart) pass sooner than the lease (3 s), as the local stack's do (5, 2 s apart, for 60 s):
    the busy message must be hidden until the lease has run out, or it is dead-lettered and never handled."""
    from local.stack.sqs_poller import sqs_record as lambda_record

    sqs = aws.session.client("sqs")
    dlq = sqs.create_queue(QueueName="probe-dlq")["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    queue = sqs.create_queue(QueueName="probe", Attributes={"VisibilityTimeout": "1", "RedrivePolicy": json.dumps(
        {"deadLetterTargetArn": dlq_arn, "maxReceiveCount": "2"})})["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    lease_s = 3
    aws.table("IdempotencyTable").put_item(Item={"pk": "probe#evt_42", "status": "IN_PROGRESS",
                                                 "lease_until": int(time.time()) + lease_s})
    calls: list[str] = []
    consumer = EventConsumer("probe", IdempotencyStore(aws.name("IdempotencyTable")),
                             {"payment_intent.succeeded": lambda env: calls.append(env.id)})
    sqs.send_message(QueueUrl=queue, MessageBody=bus_message(envelope()))

    deadline = time.monotonic() + lease_s + 5
    while not calls and time.monotonic() < deadline:  # Lambda's event source mapping: receive, invoke, delete
        messages = sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10, WaitTimeSeconds=1,
                                       MessageSystemAttributeNames=["All"]).get("Messages", [])
        records = [lambda_record(message, queue_arn, "us-east-1") for message in messages]
        if not records:
            continue
        failed = {failure["itemIdentifier"]
                  for failure in consumer.process({"Records": records}, lambda_context)["batchItemFailures"]}
        for record in records:
            if record["messageId"] not in failed:
                sqs.delete_message(QueueUrl=queue, ReceiptHandle=record["receiptHandle"])

    assert calls == ["evt_42"]
    assert sqs.receive_message(QueueUrl=dlq).get("Messages") is None
