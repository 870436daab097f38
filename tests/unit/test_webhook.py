"""Stripe webhooks (platform and Connect): verify with any of the endpoint's secrets, store once; the table's
stream publishes each new event to the bus (moto in-process; stream, rules and queues from template.yaml)."""

from __future__ import annotations

import json
import time

import pytest
import stripe
from botocore.stub import Stubber

from coursepay.stripe_gateway.signature import InvalidSignature, compute_signature, verify_signature
from coursepay.webhooks.relay import StripeEventRelay
from coursepay.webhooks.service import StripeWebhookIngest
from coursepay.webhooks.signing_secrets import SigningSecretsMissing
from tests.conftest import TEST_CONNECT_WEBHOOK_SECRET, TEST_WEBHOOK_SECRET
from tests.support.api_events import body_of, http_event

CONNECT_PATH = "/webhooks/stripe/connect"


def stripe_event(event_id: str = "evt_1", event_type: str = "payment_intent.succeeded", **extra: object) -> dict:
    return {
        "id": event_id, "object": "event", "api_version": stripe.api_version, "created": int(time.time()),
        "livemode": False, "pending_webhooks": 1, "type": event_type,
        "request": {"id": None, "idempotency_key": None},
        "data": {"object": {"id": "pi_1", "object": "payment_intent", "amount": 49900, "currency": "usd",
                            "metadata": {"kind": "track", "track_id": "DP"}}},
        **extra,
    }


def signed(payload: str, *, secret: str = TEST_WEBHOOK_SECRET, timestamp: int | None = None) -> dict[str, str]:
    # The official SDK's helper, so our verifier is checked against Stripe's own signing.
    return {"Stripe-Signature": stripe.WebhookSignature.generate_signature_header(payload, secret, timestamp)}


@pytest.fixture
def webhook(load_function):
    return load_function("WebhookFunction", "webhook")


def post(module, ctx, payload: str, headers: dict[str, str], path: str = "/webhooks/stripe"):
    return module.lambda_handler(http_event("POST", path, raw_body=payload.encode(), headers=headers), ctx)


def set_secret(aws, logical_id: str, value: dict) -> None:
    aws.client("secretsmanager").put_secret_value(SecretId=aws.name(logical_id), SecretString=json.dumps(value))


def queue_messages(aws, logical_id: str) -> list[dict]:
    sqs = aws.client("sqs")
    url = aws.name(logical_id)
    messages = []
    while True:
        batch = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=0).get("Messages", [])
        if not batch:
            return messages
        messages.extend(json.loads(m["Body"]) for m in batch)


def test_signed_event_is_stored_once_and_the_stream_publishes_it_to_every_consumer_queue(
        webhook, lambda_context, aws, stripe_event_stream):
    payload = json.dumps(stripe_event())
    response = post(webhook, lambda_context, payload, signed(payload))
    assert response["statusCode"] == 200
    assert body_of(response) == {"received": True, "event_id": "evt_1", "outcome": "recorded"}
    stored = aws.table("StripeEventsTable").get_item(Key={"pk": "evt_1"})["Item"]
    assert stored["status"] == "RECEIVED"
    assert json.loads(stored["payload"])["data"]["object"]["id"] == "pi_1"
    assert queue_messages(aws, "FulfilmentQueue") == []  # the answer to Stripe published nothing

    assert stripe_event_stream.publish() == 1
    assert aws.table("StripeEventsTable").get_item(Key={"pk": "evt_1"})["Item"]["status"] == "PUBLISHED"

    for queue in ("FulfilmentQueue", "ProvisioningQueue", "NotificationsQueue"):
        messages = queue_messages(aws, queue)
        assert len(messages) == 1, queue
        assert messages[0]["source"] == "coursepay.stripe"
        assert messages[0]["detail-type"] == "payment_intent.succeeded"
        envelope = messages[0]["detail"]
        assert envelope["version"] == "1"
        assert envelope["id"] == "evt_1"
        assert envelope["data"]["data"]["object"]["amount"] == 49900


def test_a_duplicate_delivery_is_2xx_and_changes_nothing(webhook, lambda_context, aws, stripe_event_stream):
    payload = json.dumps(stripe_event())
    assert post(webhook, lambda_context, payload, signed(payload))["statusCode"] == 200
    stripe_event_stream.publish()
    stored_before = aws.table("StripeEventsTable").get_item(Key={"pk": "evt_1"})["Item"]
    again = post(webhook, lambda_context, payload, signed(payload))
    assert again["statusCode"] == 200
    assert body_of(again)["outcome"] == "duplicate"
    assert stripe_event_stream.publish() == 0  # the repeat wrote nothing, so the stream has nothing new
    assert aws.table("StripeEventsTable").get_item(Key={"pk": "evt_1"})["Item"] == stored_before
    assert len(queue_messages(aws, "FulfilmentQueue")) == 1


def test_a_repeat_before_the_stream_published_the_event_is_a_duplicate_and_it_is_published_once(
        webhook, lambda_context, aws, stripe_event_stream):
    payload = json.dumps(stripe_event())
    first = post(webhook, lambda_context, payload, signed(payload))
    again = post(webhook, lambda_context, payload, signed(payload))
    assert [body_of(first)["outcome"], body_of(again)["outcome"]] == ["recorded", "duplicate"]
    stripe_event_stream.publish()
    assert len(queue_messages(aws, "FulfilmentQueue")) == 1


def test_the_stream_filter_passes_only_new_stripe_events(webhook, lambda_context, aws, stripe_event_stream):
    from coursepay.reconciliation.checkpoint import ReconciliationCheckpoint

    ReconciliationCheckpoint(aws.name("StripeEventsTable")).advance(1_800_000_000)  # an INSERT, not an event
    payload = json.dumps(stripe_event())
    post(webhook, lambda_context, payload, signed(payload))
    assert stripe_event_stream.publish() == 1
    (invocation,) = stripe_event_stream.invocations
    assert invocation.payload == {"batchItemFailures": []}
    # the publisher's own mark (a MODIFY) and the checkpoint never reach it
    assert stripe_event_stream.publish() == 0
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


@pytest.mark.parametrize("offset", [-290, 290])
def test_a_timestamp_within_the_tolerance_either_side_is_accepted(webhook, lambda_context, offset):
    payload = json.dumps(stripe_event())
    response = post(webhook, lambda_context, payload, signed(payload, timestamp=int(time.time()) + offset))
    assert response["statusCode"] == 200


@pytest.mark.parametrize("offset", [-310, 310])
def test_a_timestamp_beyond_the_tolerance_in_the_past_or_the_future_is_400(webhook, lambda_context, aws, offset):
    payload = json.dumps(stripe_event())
    response = post(webhook, lambda_context, payload, signed(payload, timestamp=int(time.time()) + offset))
    assert response["statusCode"] == 400
    assert body_of(response)["error"]["message"] == "timestamp outside the tolerance zone"
    assert aws.table("StripeEventsTable").scan()["Items"] == []


# The rule: |floor(now) - t| <= 300. A clock 0.75 s into a second must accept t = now - 300 (the old check,
# t < now - 300 on the fractional clock, refused it) and t = now + 300, and refuse one second further each way.
FROZEN_NOW = 1_800_000_000.75


@pytest.mark.parametrize(("offset", "accepted"), [(-300, True), (-301, False), (300, True), (301, False), (0, True)])
def test_the_tolerance_edges_on_each_side_with_a_fractional_clock(offset, accepted):
    payload = b'{"id": "evt_edge"}'
    timestamp = int(FROZEN_NOW) + offset
    header = f"t={timestamp},v1={compute_signature('whsec_edge', timestamp, payload)}"
    if accepted:
        verify_signature(payload, header, ["whsec_edge"], tolerance=300, now=FROZEN_NOW)
    else:
        with pytest.raises(InvalidSignature, match="tolerance"):
            verify_signature(payload, header, ["whsec_edge"], tolerance=300, now=FROZEN_NOW)


@pytest.mark.parametrize(("offset", "outcome"), [(-300, "recorded"), (301, None)])
def test_the_webhook_service_applies_the_edges_to_a_whole_delivery(aws, offset, outcome):
    ingest = StripeWebhookIngest(
        StripeEventRelay.for_resources(aws.name("StripeEventsTable")),
        lambda: [TEST_WEBHOOK_SECRET], tolerance_seconds=300, clock=lambda: FROZEN_NOW)
    payload = json.dumps(stripe_event())
    headers = signed(payload, timestamp=int(FROZEN_NOW) + offset)
    if outcome:
        assert ingest.ingest(payload.encode(), headers["Stripe-Signature"]).outcome == outcome
    else:
        with pytest.raises(InvalidSignature):
            ingest.ingest(payload.encode(), headers["Stripe-Signature"])
        assert aws.table("StripeEventsTable").scan()["Items"] == []


def test_a_bare_string_is_never_taken_for_a_list_of_secrets():
    with pytest.raises(ValueError, match="sequence of signing secrets"):
        verify_signature(b"{}", "t=1,v1=00", "whsec_x", tolerance=300, now=1.0)


@pytest.mark.parametrize("signer", ["whsec_new", "whsec_old"])
def test_during_a_rotation_a_signature_under_any_listed_secret_passes(webhook, lambda_context, aws, signer):
    set_secret(aws, "StripeWebhookSecret", {"signing_secrets": ["whsec_new", "whsec_old"]})
    payload = json.dumps(stripe_event())
    response = post(webhook, lambda_context, payload, signed(payload, secret=signer))
    assert response["statusCode"] == 200
    assert body_of(response)["outcome"] == "recorded"


def test_during_a_rotation_stripe_signs_with_both_secrets_and_one_match_is_enough(webhook, lambda_context, aws):
    set_secret(aws, "StripeWebhookSecret", {"signing_secrets": ["whsec_new"]})
    payload = json.dumps(stripe_event())
    now = int(time.time())
    header = (f"t={now},v1={compute_signature('whsec_old', now, payload.encode())},"
              f"v1={compute_signature('whsec_new', now, payload.encode())}")
    assert post(webhook, lambda_context, payload, {"Stripe-Signature": header})["statusCode"] == 200


def test_after_a_rotation_the_retired_secret_no_longer_verifies(webhook, lambda_context, aws):
    set_secret(aws, "StripeWebhookSecret", {"signing_secrets": ["whsec_new"]})
    payload = json.dumps(stripe_event())
    response = post(webhook, lambda_context, payload, signed(payload, secret=TEST_WEBHOOK_SECRET))
    assert response["statusCode"] == 400
    assert aws.table("StripeEventsTable").scan()["Items"] == []


@pytest.mark.parametrize("value", [{}, {"signing_secrets": []}, {"signing_secrets": [""]}, {"signing_secret": 7}])
def test_a_secret_without_a_signing_secret_fails_the_invocation_so_stripe_retries(webhook, lambda_context, aws,
                                                                                  value):
    set_secret(aws, "StripeWebhookSecret", value)
    payload = json.dumps(stripe_event())
    with pytest.raises(SigningSecretsMissing, match="holds no signing secret"):
        post(webhook, lambda_context, payload, signed(payload))
    assert aws.table("StripeEventsTable").scan()["Items"] == []


def test_a_connect_event_is_verified_with_the_connect_secret_and_stored_with_its_account(webhook, lambda_context,
                                                                                          aws, stripe_event_stream):
    payload = json.dumps(stripe_event("evt_connect_1", account="acct_1Tutor"))
    response = post(webhook, lambda_context, payload, signed(payload, secret=TEST_CONNECT_WEBHOOK_SECRET),
                    path=CONNECT_PATH)
    assert response["statusCode"] == 200
    assert body_of(response) == {"received": True, "event_id": "evt_connect_1", "outcome": "recorded"}
    stored = aws.table("StripeEventsTable").get_item(Key={"pk": "evt_connect_1"})["Item"]
    assert stored["account"] == "acct_1Tutor"
    assert json.loads(stored["payload"])["account"] == "acct_1Tutor"
    stripe_event_stream.publish()
    (message,) = queue_messages(aws, "FulfilmentQueue")
    assert message["detail"]["data"]["account"] == "acct_1Tutor"


@pytest.mark.parametrize(("path", "secret"), [(CONNECT_PATH, TEST_WEBHOOK_SECRET),
                                              ("/webhooks/stripe", TEST_CONNECT_WEBHOOK_SECRET)])
def test_each_endpoint_accepts_only_its_own_secret(webhook, lambda_context, aws, path, secret):
    payload = json.dumps(stripe_event(account="acct_1Tutor"))
    response = post(webhook, lambda_context, payload, signed(payload, secret=secret), path=path)
    assert response["statusCode"] == 400
    assert body_of(response)["error"]["code"] == "invalid_signature"
    assert aws.table("StripeEventsTable").scan()["Items"] == []


def test_the_same_event_through_both_endpoints_is_stored_and_published_once(webhook, lambda_context, aws,
                                                                            stripe_event_stream):
    payload = json.dumps(stripe_event(account="acct_1Tutor"))
    first = post(webhook, lambda_context, payload, signed(payload, secret=TEST_CONNECT_WEBHOOK_SECRET),
                 path=CONNECT_PATH)
    second = post(webhook, lambda_context, payload, signed(payload))
    assert [body_of(first)["outcome"], body_of(second)["outcome"]] == ["recorded", "duplicate"]
    stripe_event_stream.publish()
    assert len(queue_messages(aws, "FulfilmentQueue")) == 1


def unpublished(aws) -> list[dict]:
    return aws.table("StripeEventsTable").query(IndexName="gsi1", KeyConditionExpression="gsi1pk = :p",
                                                ExpressionAttributeValues={":p": "UNPUBLISHED"})["Items"]


def test_a_published_event_leaves_the_index_of_unpublished_events(webhook, lambda_context, aws, stripe_event_stream):
    payload = json.dumps(stripe_event())
    post(webhook, lambda_context, payload, signed(payload))
    assert [item["pk"] for item in unpublished(aws)] == ["evt_1"]
    stripe_event_stream.publish()
    stored = aws.table("StripeEventsTable").get_item(Key={"pk": "evt_1"})["Item"]
    assert "gsi1pk" not in stored
    assert "gsi1sk" not in stored
    assert unpublished(aws) == []


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


def test_when_the_bus_refuses_the_event_it_is_retried_then_parked_for_the_sweep_and_the_ack_is_unaffected(
        webhook, lambda_context, aws, stripe_event_stream):
    stripe_event_stream.environment["EVENT_BUS_NAME"] = "no-such-bus"
    payload = json.dumps(stripe_event())
    assert post(webhook, lambda_context, payload, signed(payload))["statusCode"] == 200  # Stripe is answered
    stripe_event_stream.publish()
    retries = stripe_event_stream.source.maximum_retry_attempts
    assert len(stripe_event_stream.invocations) == retries + 1
    assert all(invocation.payload["batchItemFailures"] for invocation in stripe_event_stream.invocations)
    (batch_info,) = [message["DDBStreamBatchInfo"] for message in queue_messages(aws, "StripeEventsPublisherDLQ")]
    assert batch_info["batchSize"] == 1
    assert batch_info["streamArn"] == stripe_event_stream.source.stream_arn
    # the event stays RECEIVED, in the index the reconciliation's sweep publishes from
    assert [item["pk"] for item in unpublished(aws)] == ["evt_1"]
    assert queue_messages(aws, "FulfilmentQueue") == []


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
