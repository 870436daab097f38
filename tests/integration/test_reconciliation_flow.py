"""Missed webhooks are recovered through the local stack: with every delivery failing (sandbox chaos) a purchase's
events never reach the webhook; the reconciliation, run like EventBridge would run it, relays them and every
consumer processes each of them once."""

from __future__ import annotations

import json
import subprocess
import sys
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import requests
import stripe

from local.stack.stack import LocalStack
from tests.support.receipts import completed

CONSUMERS = ("fulfilment", "provisioning", "notifications")


@pytest.fixture
def endpoint_down(stack: LocalStack) -> Iterator[None]:
    """Every delivery answered 500 without reaching the endpoint, no retries: events are missed at once."""
    chaos = f"{stack.stripe_url}/_sandbox/chaos"
    requests.post(chaos, json={"fail": 1.0, "fail_mode": "status", "max_attempts": 1}, timeout=10).raise_for_status()
    try:
        yield
    finally:
        requests.post(chaos, json={"fail": 0, "max_attempts": None}, timeout=10).raise_for_status()


def run_reconciliation(api: Any) -> dict[str, Any]:
    response = api.post("/_local/schedules/ReconciliationFunction/run", timeout=120)
    assert response.status_code == 200, response.text
    (run,) = response.json()["runs"]
    return dict(run["result"])


def session_events(stripe_client: stripe.StripeClient, session_id: str) -> list[stripe.Event]:
    listed = stripe_client.v1.events.list(params={"type": "checkout.session.*", "limit": 100})
    return [event for event in listed.data if event.data.object["id"] == session_id]


def test_a_purchase_missed_by_the_webhook_is_fulfilled_once_after_reconciliation(
        stack: LocalStack, api: Any, aws: Any, stripe_client: stripe.StripeClient, endpoint_down: None,
        outbox: Callable[[], list[dict[str, Any]]], eventually: Callable[..., Any]) -> None:
    base = stack.api_url
    email = f"missed-{uuid.uuid4().hex[:8]}@example.com"
    body = {"success_url": f"{base}/payment/success", "cancel_url": f"{base}/get-started"}
    if "TermsVersion" in stack.parameters:  # a sign-up accepts the current terms
        body["accepted_terms_version"] = str(stack.parameters["TermsVersion"])
    signup = api.post("/tracks/DP/signup-checkout", headers={"Idempotency-Key": uuid.uuid4().hex}, json=body)
    assert signup.status_code == 201, signup.text
    session_id = signup.json()["session_id"]
    paid = requests.post(f"{stack.stripe_url}/_sandbox/checkout/sessions/{session_id}/complete", timeout=30, json={
        "email": email, "name": "Missy Webhook", "card_number": "4242424242424242", "exp": "12/40", "cvc": "123"})
    assert paid.json()["outcome"] == "complete", paid.text
    flushed = requests.post(f"{stack.stripe_url}/_sandbox/webhooks/flush", json={"timeout": 20}, timeout=30)
    assert flushed.json()["flushed"], flushed.text

    (completed_event,) = [e for e in session_events(stripe_client, session_id)
                          if e.type == "checkout.session.completed"]
    endpoints = {e.url: e.id for e in stripe_client.v1.webhook_endpoints.list().data}
    log = requests.get(f"{stack.stripe_url}/_sandbox/webhook_endpoints/{endpoints[f'{base}/webhooks/stripe']}"
                       f"/deliveries?event_id={completed_event.id}", timeout=10).json()["data"]
    assert [(d["simulated_failure"], d["status"]) for d in log] == [("status", "failed")]  # missed, given up
    events_table = aws.table("StripeEventsTable")
    assert "Item" not in events_table.get_item(Key={"pk": completed_event.id}, ConsistentRead=True)

    report = run_reconciliation(api)
    assert report["relayed"] >= 1
    # the run stored it; the table's stream published it (and marked it so)
    stored = eventually(lambda: (item := events_table.get_item(Key={"pk": completed_event.id},
                                                               ConsistentRead=True)["Item"])["status"] == "PUBLISHED"
                        and item)
    assert json.loads(stored["payload"])["data"]["object"]["id"] == session_id

    receipts = aws.table("IdempotencyTable")
    for consumer in CONSUMERS:
        eventually(lambda consumer=consumer: completed(receipts, f"{consumer}#{completed_event.id}"), timeout=30)
    verified = eventually(lambda: (r := api.get(f"/checkout/sessions/{session_id}/verify")).status_code == 200 and r,
                          timeout=30)
    assert verified.json()["email"] == email
    eventually(lambda: mails_to(outbox, email), timeout=30)

    again = run_reconciliation(api)  # a second run finds nothing new to relay for this purchase
    assert again["already_stored"] >= 1
    assert events_table.get_item(Key={"pk": completed_event.id}, ConsistentRead=True)["Item"] == stored
    for consumer in CONSUMERS:  # each consumer's one receipt, from the one publication
        assert completed(receipts, f"{consumer}#{completed_event.id}")["status"] == "COMPLETED"
    subjects = [str(message.get("subject")) for message in mails_to(outbox, email)]
    assert len(subjects) == len(set(subjects)), subjects  # every e-mail of the purchase sent once


def mails_to(outbox: Callable[[], list[dict[str, Any]]], email: str) -> list[dict[str, Any]]:
    return [message for message in outbox() if email in message.get("to", [])]


def test_the_control_route_names_the_scheduled_functions(api: Any) -> None:
    response = api.post("/_local/schedules/WebhookFunction/run")
    assert response.status_code == 404
    assert "ReconciliationFunction" in response.json()["message"]


def test_the_operator_command_runs_against_the_stack_with_the_functions_environment(stack: LocalStack) -> None:
    finished = subprocess.run(
        [sys.executable, "-m", "local.stack.run_in_function", "ReconciliationFunction", "--state-dir",
         str(stack.state_dir), "--", "python", "-m", "coursepay.reconciliation", "--since", "10m"],
        capture_output=True, text=True, timeout=120, check=False)
    assert finished.returncode == 0, finished.stderr
    report = json.loads(finished.stdout)
    assert report["complete"] is True
    assert report["relayed"] + report["already_stored"] == report["listed"]
