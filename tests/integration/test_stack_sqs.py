"""The SQS event source mappings: bus -> queues -> consumer functions, partial failures, redrive to the DLQ."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from typing import Any

from coursepay.consumers.notifications import CONSUMER_NAME as NOTIFICATIONS
from coursepay.consumers.provisioning import CONSUMER_NAME as PROVISIONING
from local.stack.stack import LocalStack
from tests.support.receipts import completed


def test_a_bus_event_reaches_each_consumer_once(aws: Any, eventually: Callable[..., Any]) -> None:
    event_id = f"ev_{uuid.uuid4().hex}"
    envelope = {
        "version": "1",
        "id": event_id,
        "source": "coursepay.accounts",
        "type": "local_stack.ping",
        "occurred_at": "2026-01-01T00:00:00.000Z",
        "data": {},
    }
    result = aws.client("events").put_events(
        Entries=[
            {
                "EventBusName": aws.name("EventBus"),
                "Source": "coursepay.accounts",
                "DetailType": "local_stack.ping",
                "Detail": json.dumps(envelope),
            }
        ]
    )
    assert result["FailedEntryCount"] == 0
    idempotency = aws.table("IdempotencyTable")
    for consumer in (PROVISIONING, NOTIFICATIONS):  # both rules match source coursepay.accounts
        # A receipt is IN_PROGRESS while the consumer works; wait for the finished one.
        record = eventually(lambda key=f"{consumer}#{event_id}": completed(idempotency, key))
        assert record["event_type"] == "local_stack.ping"


def test_a_message_the_consumer_keeps_failing_ends_in_the_dlq(
    aws: Any, stack: LocalStack, eventually: Callable[..., Any]
) -> None:
    sqs = aws.client("sqs")
    body = f"not an envelope {uuid.uuid4()}"
    sent = sqs.send_message(QueueUrl=aws.name("ProvisioningQueue"), MessageBody=body)

    def in_dlq() -> dict[str, Any] | None:
        response = sqs.receive_message(
            QueueUrl=aws.name("ProvisioningDLQ"), WaitTimeSeconds=1, MessageSystemAttributeNames=["All"]
        )
        return next((m for m in response.get("Messages", []) if m["MessageId"] == sent["MessageId"]), None)

    # maxReceiveCount receives, each failed and made visible again after QueueVisibilitySeconds.
    receives = int(stack.parameters["MaxReceiveCount"])
    visibility = int(stack.parameters["QueueVisibilitySeconds"])
    dead = eventually(in_dlq, timeout=receives * (visibility + 2) + 10, interval=0)
    assert dead["Body"] == body
    assert int(dead["Attributes"]["ApproximateReceiveCount"]) >= receives
    attributes = sqs.get_queue_attributes(
        QueueUrl=aws.name("ProvisioningQueue"),
        AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    )["Attributes"]
    assert attributes == {"ApproximateNumberOfMessages": "0", "ApproximateNumberOfMessagesNotVisible": "0"}
