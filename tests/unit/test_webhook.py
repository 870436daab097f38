"""Stripe webhook: verify, store once, publish to the bus (moto in-process; rules and queues from template.yaml)."""

from __future__ import annotations

import json
import time

import pytest
import stripe
from botocore.exceptions import ClientError
from botocore.stub import Stubber

from tests.conftest import TEST_WEBHOOK_SECRET
from tests.support.api_events import body_of, http_event


def stripe_event(event_id: str = "evt_1", event_type: str = "payment_intent.succeeded") -> dict:
    return {
        "id": event_id, "object": "event", "api_version": stripe.api_version, "created": int(time.time()),
        "livemode": False, "pending_webhooks": 1, "type": event_type,
        "request": {"id": None, "idempotency_key": None},
        "data": {"object": {"id": "pi_1", "object": "payment_intent", "amount": 49900, "currency": "usd",
                            "metadata": {"kind": "track", "track_id": "DP"}}},
    }


def signed(payload: str, *, secret: str = TEST_WEBHOOK_SECRET, timestamp: int | None = None) -> dict[str, str]:
    # The official SDK's helper, so our verifier is checked against Stripe's own signing.
    return {"Stripe-Signature": stripe.WebhookSignature.generate_signature_header(payload, secret, timestamp)}


@pytest.fixture
def webhook(load_function):
    return load_function("WebhookFunction", "webhook")


def post(module, ctx, payload: str, headers: dict[str, str]):
    return module.lambda_handler(http_event("POST", "/webhooks/stripe", raw_body=payload.encode(), headers=headers),
                                 ctx)


def queue_messages(aws, logical_id: str) -> list[dict]:
    sqs = aws.client("sqs")
    url = aws.name(logical_id)
    messages = []
    while True:
        batch = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=0).get("Messages", [])
        if not batch:
            return messages
        messages.extend(json.loads(m["Body"]) for m in batch)


def test_signed_event_is_stored_once_and_published_to_every_consumer_queue(webhook, lambda_context, aws):
    payload = json.dumps(stripe_event())
    response = post(webhook, lambda_context, payload, signed(payload))
    assert response["statusCode"] == 200
    assert body_of(response) == {"received": True, "event_id": "evt_1", "outcome": "published"}

    stored = aws.table("StripeEventsTable").get_item(Key={"pk": "evt_1"})["Item"]
    assert stored["status"] == "PUBLISHED"
    assert json.loads(stored["payload"])["data"]["object"]["id"] == "pi_1"

    for queue in ("FulfilmentQueue", "ProvisioningQueue", "NotificationsQueue"):
        messages = queue_messages(aws, queue)
        assert len(messages) == 1, queue
        assert messages[0]["source"] == "coursepay.stripe"
        assert messages[0]["detail-type"] == "payment_intent.succeeded"
        envelope = messages[0]["detail"]
        assert envelope["version"] == "1"
        assert envelope["id"] == "evt_1"
        assert envelope["data"]["data"]["object"]["amount"] == 49900


def test_a_duplicate_delivery_is_2xx_and_changes_nothing(webhook, lambda_context, aws):
    payload = json.dumps(stripe_event())
    assert post(webhook, lambda_context, payload, signed(payload))["statusCode"] == 200
    stored_before = aws.table("StripeEventsTable").get_item(Key={"pk": "evt_1"})["Item"]
    again = post(webhook, lambda_context, payload, signed(payload))
    assert again["statusCode"] == 200
    assert body_of(again)["outcome"] == "duplicate"
    assert aws.table("StripeEventsTable").get_item(Key={"pk": "evt_1"})["Item"] == stored_before
    assert len(queue_messages(aws, "FulfilmentQueue")) == 1


def test_an_event_stored_but_never_published_is_published_on_redelivery(webhook, lambda_context, aws):
    event = stripe_event()
    aws.table("StripeEventsTable").put_item(Item={"pk": "evt_1", "type": event["type"], "status": "RECEIVED"})
    payload = json.dumps(event)
    response = post(webhook, lambda_context, payload, signed(payload))
    assert body_of(response)["outcome"] == "published"
    assert len(queue_messages(aws, "FulfilmentQueue")) == 1


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Stripe-Signature": "garbage"},
        "wrong-secret",
        "too-old",
        "tampered",
    ],
)
def test_an_unverifiable_request_is_400_and_nothing_is_stored(webhook, lambda_context, aws, headers):
    payload = json.dumps(stripe_event())
    body = payload
    if headers == "wrong-secret":
        headers = signed(payload, secret="whsec_someone_else")
    elif headers == "too-old":
        headers = signed(payload, timestamp=int(time.time()) - 301)
    elif headers == "tampered":
        headers = signed(payload)
        body = payload.replace("49900", "1")
    response = post(webhook, lambda_context, body, headers)
    assert response["statusCode"] == 400
    assert body_of(response)["error"]["code"] == "invalid_signature"
    assert body_of(response)["error"]["field"] == "Stripe-Signature"
    assert aws.table("StripeEventsTable").scan()["Items"] == []
    assert queue_messages(aws, "FulfilmentQueue") == []


def test_a_timestamp_within_the_tolerance_is_accepted(webhook, lambda_context):
    payload = json.dumps(stripe_event())
    response = post(webhook, lambda_context, payload, signed(payload, timestamp=int(time.time()) - 290))
    assert response["statusCode"] == 200


def test_unknown_event_types_are_acknowledged_without_effect(webhook, lambda_context, aws):
    payload = json.dumps(stripe_event(event_type="customer.tax_id.created"))
    response = post(webhook, lambda_context, payload, signed(payload))
    assert response["statusCode"] == 200
    assert body_of(response)["outcome"] == "ignored"
    assert aws.table("StripeEventsTable").scan()["Items"] == []
    assert queue_messages(aws, "ProvisioningQueue") == []


def test_a_signed_body_that_is_not_an_event_is_400(webhook, lambda_context, aws):
    payload = json.dumps({"hello": "world"})
    response = post(webhook, lambda_context, payload, signed(payload))
    assert response["statusCode"] == 400
    assert aws.table("StripeEventsTable").scan()["Items"] == []


def test_a_bus_that_refuses_the_event_fails_loudly_and_stripe_retries(webhook, lambda_context, aws, monkeypatch):
    monkeypatch.setenv("EVENT_BUS_NAME", "no-such-bus")
    webhook.service.cache_clear()
    from coursepay.settings import load_settings

    load_settings.cache_clear()
    payload = json.dumps(stripe_event())
    # An unhandled error fails the invocation: API Gateway answers 500 and Stripe delivers again later.
    with pytest.raises(ClientError, match="no-such-bus"):
        post(webhook, lambda_context, payload, signed(payload))
    assert aws.table("StripeEventsTable").get_item(Key={"pk": "evt_1"})["Item"]["status"] == "RECEIVED"


def test_publisher_raises_when_the_bus_accepts_only_part_of_a_batch(aws):
    from coursepay import aws_clients
    from coursepay.events.envelope import Envelope
    from coursepay.events.publisher import EventPublisher, PublishFailed

    client = aws_clients.eventbridge()
    with Stubber(client) as stub:
        stub.add_response("put_events", {"FailedEntryCount": 1, "Entries": [
            {"EventId": "1"}, {"ErrorCode": "InternalFailure", "ErrorMessage": "try again"}]})
        envelopes = [Envelope(source="coursepay.test", type="thing.happened", data={"n": n}) for n in range(2)]
        with pytest.raises(PublishFailed, match="1 of 2"):
            EventPublisher(aws.name("EventBus")).publish(envelopes)
