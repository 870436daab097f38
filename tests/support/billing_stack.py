"""Helpers of the billing-core integration tests (tests/integration/test_billing_core.py): buyers, course and track
purchases through the local stack, what the payments and audit tables and the fulfilment DLQ say, and Stripe
deliveries the test holds back and then makes itself, in the order it chooses."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import requests
import stripe

from local.stack.seed import DEMO_PASSWORD
from tests.support.accounts import register_verified

GOOD_CARD = "4242424242424242"
DECLINED_CARD = "4000000000000002"
DISPUTED_CARD = "4000000000000259"
COURSE = {"title": "Billing core: money in the seams", "description": "Refunds and disputes", "outline": ["Money"],
          "monthly_price": 1500, "one_time_price": 9900, "currency": "usd"}


@dataclass(frozen=True)
class Buyer:
    email: str
    token: str
    user_id: str


def register(api: Any, stack: Any, login: Any, prefix: str = "billing") -> Buyer:
    email = f"{prefix}-{uuid.uuid4().hex[:8]}@example.com"
    created = register_verified(api, stack, email, DEMO_PASSWORD, "Bill Payer")
    return Buyer(email=email, token=str(login(email)["access_token"]), user_id=str(created["user_id"]))


def origin(stack: Any) -> str:
    return str(stack.api_url).rstrip("/")


def create_course(api: Any, teacher_token: str) -> str:
    response = api.post("/courses", token=teacher_token, json=COURSE, headers={"Idempotency-Key": uuid.uuid4().hex})
    assert response.status_code == 201, response.text
    return str(response.json()["course_id"])


def course_checkout(api: Any, stack: Any, token: str, course_id: str, pricing: str = "one_time",
                    success_path: str = "/done") -> requests.Response:
    return api.post(f"/courses/{course_id}/checkout", token=token, json={
        "pricing": pricing, "success_url": f"{origin(stack)}{success_path}?session_id={{CHECKOUT_SESSION_ID}}",
        "cancel_url": f"{origin(stack)}/cancelled"})


def track_checkout(api: Any, stack: Any, token: str, track_id: str,
                   success_path: str = "/payment/success") -> requests.Response:
    return api.post(f"/tracks/{track_id}/checkout", token=token, json={
        "success_url": f"{origin(stack)}{success_path}", "cancel_url": f"{origin(stack)}/get-started"})


def pay(stack: Any, session_id: str, card: str = GOOD_CARD) -> dict[str, Any]:
    """The hosted page's own code path (the sandbox's control route), with a test card."""
    response = requests.post(f"{stack.stripe_url}/_sandbox/checkout/sessions/{session_id}/complete", timeout=30,
                             json={"email": "payer@example.com", "name": "Bill Payer", "card_number": card,
                                   "exp": "12/40", "cvc": "123"})
    assert response.status_code == 200, response.text
    return dict(response.json())


def course_access(api: Any, token: str, course_id: str) -> dict[str, Any]:
    response = api.get(f"/courses/{course_id}/access", token=token)
    assert response.status_code == 200, response.text
    return dict(response.json())


def my_track(api: Any, token: str, track_id: str) -> dict[str, Any] | None:
    response = api.get("/me/tracks", token=token)
    assert response.status_code == 200, response.text
    return next((t for t in response.json()["items"] if t["track_id"] == track_id), None)


def payment_view(api: Any, token: str, payment_id: str) -> dict[str, Any]:
    response = api.get(f"/payments/{payment_id}", token=token)
    assert response.status_code == 200, response.text
    return dict(response.json())


def payment_record(aws: Any, payment_id: str) -> dict[str, Any]:
    """The ledger's record itself (it also holds what the API does not show, e.g. ``duplicate_of``)."""
    item = aws.table("PaymentsTable").get_item(Key={"pk": f"PAYMENT#{payment_id}", "sk": "PAYMENT"},
                                               ConsistentRead=True).get("Item")
    assert item is not None, f"no payment record {payment_id}"
    return dict(item)


def parked_events(aws: Any, payment_intent_id: str) -> list[str]:
    """Event types parked for a PaymentIntent (``coursepay.billing.parking``)."""
    items = aws.table("PaymentsTable").query(KeyConditionExpression="pk = :p", ConsistentRead=True,
                                             ExpressionAttributeValues={":p": f"PARKED#{payment_intent_id}"})["Items"]
    return [str(item["event_type"]) for item in items]


def audit_actions(aws: Any, entity: str) -> list[str]:
    """The audit trail of one entity (e.g. ``payment#cs_...``), oldest first."""
    items = aws.table("AuditTable").query(KeyConditionExpression="pk = :e", ExpressionAttributeValues={":e": entity},
                                          ConsistentRead=True)["Items"]
    return [str(item["action"]) for item in sorted(items, key=lambda item: str(item["sk"]))]


def waiting_in(aws: Any, queue_logical_id: str) -> int:
    """Messages in a queue, visible or in flight."""
    attributes = aws.client("sqs").get_queue_attributes(
        QueueUrl=aws.name(queue_logical_id),
        AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"])["Attributes"]
    return int(attributes["ApproximateNumberOfMessages"]) + int(attributes["ApproximateNumberOfMessagesNotVisible"])


def flush(stack: Any) -> None:
    response = requests.post(f"{stack.stripe_url}/_sandbox/webhooks/flush", json={"timeout": 20}, timeout=30)
    assert response.status_code == 200, response.text


@contextmanager
def deliveries_lost(stack: Any) -> Iterator[None]:
    """Every webhook attempt fails at once and is not retried (the sandbox's chaos), until the block ends:
    the events stay at Stripe (``events.list``) and reach coursepay only when the test delivers them."""
    chaos = f"{stack.stripe_url}/_sandbox/chaos"
    requests.post(chaos, json={"fail": 1, "max_attempts": 1}, timeout=10).raise_for_status()
    try:
        yield
        flush(stack)
    finally:
        requests.post(chaos, json={"fail": 0, "max_attempts": None}, timeout=10).raise_for_status()


def stripe_event(client: stripe.StripeClient, event_type: str, **about: str) -> dict[str, Any]:
    """The newest event of ``event_type`` whose object has all the ``about`` field values."""
    for event in client.v1.events.list(params={"type": event_type, "limit": 100}).auto_paging_iter():
        data = event.to_dict()
        obj = data["data"]["object"]
        if all(obj.get(field) == value for field, value in about.items()):
            return dict(data)
    raise AssertionError(f"no {event_type} event with {about}")


def deliver(api: Any, stack: Any, event: dict[str, Any]) -> dict[str, Any]:
    """POST a Stripe event to the webhook as Stripe would (signed with the endpoint's secret, now)."""
    payload = json.dumps(event)
    signature = stripe.WebhookSignature.generate_signature_header(payload, stack.webhook_secret, int(time.time()))
    response = api.post("/webhooks/stripe", data=payload,
                        headers={"Stripe-Signature": signature, "Content-Type": "application/json"})
    assert response.status_code == 200, response.text
    return dict(response.json())
