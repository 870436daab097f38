"""The stack wires Stripe to the system: the sandbox's webhook endpoint, its signing secret in Secrets
Manager, and a raw body that reaches the webhook function byte-exact (its signature check proves it)."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
import stripe

from local.stack.stack import LocalStack


def test_a_stripe_event_is_delivered_verified_and_recorded(
    stack: LocalStack, stripe_client: stripe.StripeClient, aws: Any, eventually: Callable[..., Any]
) -> None:
    if stack.webhook_secret is None:
        pytest.skip("the Stripe sandbox did not register a webhook endpoint")
    endpoints = stripe_client.v1.webhook_endpoints.list()
    assert [endpoint.url for endpoint in endpoints.data] == [f"{stack.api_url}/webhooks/stripe"]
    assert endpoints.data[0].enabled_events == ["*"]

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
