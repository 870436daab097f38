"""Webhook chaos of the failing kind (deliveries answered 500 or timed out as if the endpoint were down, events
missed after the retries) and the delivery log's payload and signature, through the official SDK."""

from __future__ import annotations

import time

import pytest
import stripe

from .conftest import Control


def deliveries(control: Control, endpoint_id: str, **query: str) -> list[dict]:
    suffix = "?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else ""
    return control.get(f"/webhook_endpoints/{endpoint_id}/deliveries{suffix}")["data"]


def test_the_delivery_log_keeps_each_attempts_payload_and_a_signature_that_verifies(client, receiver, endpoint,
                                                                                    control) -> None:
    receiver.statuses = [500]
    customer = client.v1.customers.create(params={"email": "log@example.com"})
    control.flush()
    log = deliveries(control, endpoint.id)
    assert [d["attempt"] for d in log] == [1, 2]
    for entry, received in zip(log, receiver.requests, strict=True):
        assert entry["payload"] == received["body"]
        assert entry["signature"] == received["headers"]["Stripe-Signature"]
        event = stripe.Webhook.construct_event(entry["payload"], entry["signature"], endpoint.secret)
        assert event.data.object["id"] == customer.id
        assert entry["simulated_failure"] is None


def test_with_every_delivery_failing_the_endpoint_is_never_reached_and_the_event_is_missed(
        client, receiver, endpoint, control) -> None:
    chaos = control.post("/chaos", {"fail": 1.0})
    assert (chaos["fail"], chaos["fail_mode"], chaos["max_attempts"]) == (1.0, "status", None)
    customer = client.v1.customers.create(params={"email": "down@example.com"})
    control.flush()
    assert receiver.requests == []
    log = deliveries(control, endpoint.id)
    # 1 + the three retry delays of the session's sandbox, each answered 500, then given up.
    assert [(d["attempt"], d["response_status"], d["simulated_failure"], d["status"]) for d in log] == [
        (1, 500, "status", "retrying"), (2, 500, "status", "retrying"), (3, 500, "status", "retrying"),
        (4, 500, "status", "failed")]
    assert stripe.Webhook.construct_event(log[-1]["payload"], log[-1]["signature"], endpoint.secret).data.object[
        "id"] == customer.id
    # Stripe still lists it: this is what reconciliation finds.
    assert client.v1.events.list(params={"type": "customer.created"}).data[0].data.object["id"] == customer.id


def test_max_attempts_gives_up_sooner_and_later_events_are_delivered_once_chaos_ends(client, receiver, endpoint,
                                                                                     control) -> None:
    control.post("/chaos", {"fail": True, "max_attempts": 1})
    client.v1.customers.create(params={"email": "missed@example.com"})
    control.flush()
    assert [d["status"] for d in deliveries(control, endpoint.id)] == ["failed"]
    assert control.post("/chaos", {"fail": 0})["fail"] == 0.0
    delivered = client.v1.customers.create(params={"email": "back@example.com"})
    control.flush()
    assert [e["data"]["object"]["id"] for e in receiver.events()] == [delivered.id]


def test_a_share_of_deliveries_fails_reproducibly_with_a_seed(client, receiver, endpoint, control) -> None:
    control.post("/chaos", {"fail": 0.5, "max_attempts": 1, "seed": 7})
    for n in range(12):
        client.v1.products.create(params={"name": f"P{n}"})
    control.flush()
    outcomes = [d["status"] for d in deliveries(control, endpoint.id)]
    assert len(outcomes) == 12
    assert 0 < outcomes.count("failed") < 12
    assert len(receiver.requests) == outcomes.count("succeeded")


def test_an_outage_fails_every_delivery_for_a_while_then_ends_by_itself(client, receiver, endpoint, control) -> None:
    chaos = control.post("/chaos", {"fail_seconds": 0.4, "max_attempts": 1})
    assert chaos["fail_until"] > time.time()
    client.v1.customers.create(params={"email": "during@example.com"})
    control.flush()
    assert receiver.requests == []
    time.sleep(max(0.0, chaos["fail_until"] - time.time()) + 0.05)
    assert control.get("/chaos")["fail_until"] is None
    after = client.v1.customers.create(params={"email": "after@example.com"})
    control.flush()
    assert [e["data"]["object"]["id"] for e in receiver.events()] == [after.id]


def test_timeout_mode_takes_the_delivery_timeout_and_logs_a_timeout(client, receiver, endpoint, control,
                                                                    sandbox) -> None:
    control.post("/chaos", {"fail": 1.0, "fail_mode": "timeout", "max_attempts": 1})
    sandbox.delivery.timeout = 0.2  # the session's sandbox waits 2 s; this test need not
    try:
        client.v1.customers.create(params={"email": "slow@example.com"})
        control.flush()
    finally:
        sandbox.delivery.timeout = 2.0
    (entry,) = deliveries(control, endpoint.id)
    assert (entry["response_status"], entry["simulated_failure"], entry["status"]) == (None, "timeout", "failed")
    assert entry["error"].startswith("Timed out")
    assert entry["duration_ms"] >= 200
    assert receiver.requests == []


@pytest.mark.parametrize("body", [{"fail": 2}, {"fail": "often"}, {"fail_mode": "crash"}, {"max_attempts": 0},
                                  {"max_attempts": True}, {"fail_seconds": -1}, {"fail_forever": True}])
def test_bad_chaos_settings_are_400_and_change_nothing(control, body) -> None:
    before = control.get("/chaos")
    error = control.post("/chaos", body, expect=400)["error"]
    assert error["type"] == "invalid_request_error"
    assert control.get("/chaos") == before


def test_reset_ends_the_failure_mode(control) -> None:
    control.post("/chaos", {"fail": 1.0, "fail_seconds": 60, "max_attempts": 2})
    control.post("/reset")
    assert control.get("/chaos") | {"seed": None} == {"duplicate": 0.0, "shuffle": False, "delay_ms": 0, "seed": None,
                                                      "fail": 0.0, "fail_mode": "status", "fail_until": None,
                                                      "max_attempts": None}
