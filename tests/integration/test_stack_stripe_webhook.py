"""The stack wires Stripe to the system: the sandbox's webhook endpoint, its signing secret in Secrets
Manager, and a raw body that reaches the webhook function byte-exact (its signature check proves it)."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable
from typing import Any

import stripe

from local.stack.stack import LocalStack
from local.stack.stripe_webhooks import handled_event_types
from tests.support.receipts import completed


def test_a_stripe_event_is_delivered_verified_and_recorded(
    stack: LocalStack, stripe_client: stripe.StripeClient, aws: Any, eventually: Callable[..., Any]
) -> None:
    assert stack.webhook_secret, "the stack registers a webhook endpoint with the sandbox"
    assert stack.connect_webhook_secret, "and a Connect endpoint, with its own secret"
    assert stack.connect_webhook_secret != stack.webhook_secret
    endpoints = stripe_client.v1.webhook_endpoints.list()
    assert sorted(endpoint.url for endpoint in endpoints.data) == [
        f"{stack.api_url}/webhooks/stripe", f"{stack.api_url}/webhooks/stripe/connect"]
    assert all(endpoint.enabled_events == handled_event_types() for endpoint in endpoints.data)

    # A type the webhook function records (others it acknowledges and ignores).
    intent = stripe_client.v1.payment_intents.create(
        params={"amount": 1234, "currency": "eur", "description": "Ünïcode € ✓"}
    )
    stripe_client.v1.payment_intents.cancel(intent.id)
    canceled = eventually(
        lambda: next(
            (e for e in stripe_client.v1.events.list(params={"type": "payment_intent.canceled"}).data
             if e.data.object["id"] == intent.id),
            None,
        )
    )  # fmt: skip
    stored = eventually(
        lambda: aws.table("StripeEventsTable").get_item(Key={"pk": canceled.id}, ConsistentRead=True).get("Item")
    )
    # Stored only because the signature over the delivered bytes verified with the secret the stack set.
    assert stored["type"] == "payment_intent.canceled"
    assert json.loads(stored["payload"])["data"]["object"]["description"] == "Ünïcode € ✓"


def test_a_signed_event_posted_to_the_webhook_reaches_every_consumer(
    stack: LocalStack, api: Any, aws: Any, eventually: Callable[..., Any]
) -> None:
    event_id = f"evt_{uuid.uuid4().hex[:24]}"
    payload = json.dumps({
        "id": event_id, "object": "event", "api_version": stripe.api_version, "created": int(time.time()),
        "livemode": False, "pending_webhooks": 1, "type": "payment_intent.canceled",
        "request": {"id": None, "idempotency_key": None},
        "data": {"object": {"id": "pi_probe", "object": "payment_intent", "metadata": {}}},
    })
    assert stack.webhook_secret
    signature = stripe.WebhookSignature.generate_signature_header(payload, stack.webhook_secret)
    response = api.post("/webhooks/stripe", data=payload.encode(),
                        headers={"Stripe-Signature": signature, "Content-Type": "application/json"})
    assert response.status_code == 200, response.text
    assert response.json()["outcome"] == "recorded"  # stored; the table's stream publishes it

    again = api.post("/webhooks/stripe", data=payload.encode(),
                     headers={"Stripe-Signature": signature, "Content-Type": "application/json"})
    assert again.json()["outcome"] == "duplicate"

    receipts = aws.table("IdempotencyTable")
    for consumer in ("fulfilment", "provisioning", "notifications"):
        # A receipt is IN_PROGRESS while the consumer works; wait for the finished one.
        record = eventually(lambda consumer=consumer: completed(receipts, f"{consumer}#{event_id}"))
        assert record["event_type"] == "payment_intent.canceled"

    forged = api.post("/webhooks/stripe", data=payload.replace("pi_probe", "pi_forged").encode(),
                      headers={"Stripe-Signature": signature, "Content-Type": "application/json"})
    assert forged.status_code == 400
