"""Webhook endpoints, signed delivery, retries, the delivery log, chaos and flush; events API filters."""

from __future__ import annotations

import time

import pytest
import requests
import stripe

from local.stripe_sandbox.server import SandboxServer

from .conftest import Receiver


def test_endpoint_api(client, receiver) -> None:
    created = client.v1.webhook_endpoints.create(params={
        "url": receiver.url, "enabled_events": ["customer.created", "charge.succeeded"],
        "description": "app", "metadata": {"env": "test"}})
    assert created.id.startswith("we_")
    assert created.secret is not None
    assert created.secret.startswith("whsec_")
    assert created.status == "enabled"
    assert created.api_version == stripe.api_version
    fetched = client.v1.webhook_endpoints.retrieve(created.id)
    assert "secret" not in fetched  # only returned on creation, as on Stripe
    updated = client.v1.webhook_endpoints.update(created.id, params={"enabled_events": ["*"], "disabled": True})
    assert (updated.enabled_events, updated.status) == (["*"], "disabled")
    assert [e.id for e in client.v1.webhook_endpoints.list().data] == [created.id]
    assert client.v1.webhook_endpoints.delete(created.id).deleted is True
    assert client.v1.webhook_endpoints.list().data == []
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.webhook_endpoints.create(params={"url": "ftp://nope", "enabled_events": ["*"]})


def test_signed_delivery_verifiable_and_ordered(client, receiver, endpoint, control) -> None:
    customers = [client.v1.customers.create(params={"email": f"c{i}@example.com"}).id for i in range(5)]
    control.flush()
    for req in receiver.requests:
        event = stripe.Webhook.construct_event(req["body"], req["headers"]["Stripe-Signature"], endpoint.secret)
        assert event.object == "event"
        assert req["headers"]["Content-Type"].startswith("application/json")
        with pytest.raises(stripe.SignatureVerificationError):
            stripe.Webhook.construct_event(req["body"], req["headers"]["Stripe-Signature"], "whsec_wrong")
    events = receiver.events()
    assert [e["data"]["object"]["id"] for e in events] == customers  # creation order
    assert all(e["type"] == "customer.created" and e["api_version"] == stripe.api_version for e in events)
    assert client.v1.events.retrieve(events[0]["id"]).pending_webhooks == 0


def test_enabled_events_filter(client, receiver, control) -> None:
    client.v1.webhook_endpoints.create(params={"url": receiver.url, "enabled_events": ["product.created"]})
    client.v1.customers.create(params={"email": "x@example.com"})
    client.v1.products.create(params={"name": "P"})
    control.flush()
    assert receiver.types() == ["product.created"]
    assert client.v1.events.list(params={"type": "customer.created"}).data[0].pending_webhooks == 0


def test_retries_on_500_then_success_and_delivery_log(client, receiver, endpoint, control) -> None:
    receiver.statuses = [500, 503]
    customer = client.v1.customers.create(params={"email": "r@example.com"})
    control.flush()
    assert [r["status"] for r in receiver.requests] == [500, 503, 200]
    assert receiver.events()[0]["data"]["object"]["id"] == customer.id
    log = control.get(f"/webhook_endpoints/{endpoint.id}/deliveries")["data"]
    assert [(d["attempt"], d["response_status"], d["status"]) for d in log] == [
        (1, 500, "retrying"), (2, 503, "retrying"), (3, 200, "succeeded")]
    assert all(d["event_type"] == "customer.created" for d in log)
    html = requests.get(f"{control.url}/_sandbox/deliveries", timeout=5)
    assert html.status_code == 200
    assert endpoint.id in html.text
    assert "customer.created" in html.text


def test_gives_up_after_retry_schedule(client, receiver, endpoint, control) -> None:
    receiver.statuses = [500] * 10
    client.v1.customers.create(params={"email": "r@example.com"})
    control.flush()
    log = control.get(f"/webhook_endpoints/{endpoint.id}/deliveries")["data"]
    assert [d["status"] for d in log] == ["retrying", "retrying", "retrying", "failed"]  # 1 + 3 retries
    assert receiver.events() == []


def test_unreachable_endpoint_is_logged(client, control) -> None:
    ep = client.v1.webhook_endpoints.create(params={"url": "http://127.0.0.1:9/nothing", "enabled_events": ["*"]})
    client.v1.products.create(params={"name": "P"})
    control.flush()
    log = control.get(f"/webhook_endpoints/{ep.id}/deliveries")["data"]
    assert log[-1]["status"] == "failed"
    assert log[-1]["response_status"] is None
    assert log[-1]["error"]


def test_chaos_duplicate_and_shuffle(client, receiver, endpoint, control) -> None:
    control.post("/chaos", {"duplicate": True, "seed": 7})
    client.v1.customers.create(params={"email": "d@example.com"})
    control.flush()
    ids = [e["id"] for e in receiver.events()]
    assert len(ids) == 2
    assert ids[0] == ids[1]
    log = control.get(f"/webhook_endpoints/{endpoint.id}/deliveries")["data"]
    assert [d["duplicate"] for d in log] == [False, True]
    receiver.requests.clear()
    control.post("/chaos", {"duplicate": 0, "shuffle": True, "seed": 3})
    product = client.v1.products.create(params={"name": "P"})
    for i in range(8):
        client.v1.products.update(product.id, params={"metadata": {"n": str(i)}})
    control.flush()
    created = [e["id"] for e in reversed(client.v1.events.list(params={"limit": 100}).data)
               if e["type"].startswith("product.")]
    got = [e["id"] for e in receiver.events()]
    assert sorted(got) == sorted(created)
    assert got != created
    assert control.get("/chaos")["shuffle"] is True
    control.post("/chaos", {"duplicate": 2}, expect=400)


def test_chaos_delay_and_flush_timeout(client, receiver, endpoint, control) -> None:
    control.post("/chaos", {"delay_ms": 300})
    client.v1.customers.create(params={"email": "slow@example.com"})
    r = requests.post(f"{control.url}/_sandbox/webhooks/flush", json={"timeout": 0.05}, timeout=5)
    assert r.status_code == 504
    assert r.json()["pending"] >= 1
    started = time.monotonic()
    control.flush()
    assert time.monotonic() - started < 2
    assert len(receiver.events()) == 1


def test_events_api_filters(client) -> None:
    client.v1.customers.create(params={"email": "e@example.com"})
    cutoff = client.v1.events.list().data[0].created
    client.v1.products.create(params={"name": "P"})
    assert [e.type for e in client.v1.events.list(params={"type": "product.created"}).data] == ["product.created"]
    assert {e.type for e in client.v1.events.list(params={"type": "customer.*"}).data} == {"customer.created"}
    assert len(client.v1.events.list(params={"created": {"gte": cutoff}}).data) == 2
    assert client.v1.events.list(params={"created": {"gt": cutoff + 10_000}}).data == []
    assert len(client.v1.events.list(params={"types": ["customer.created", "product.created"]}).data) == 2
    event = client.v1.events.list().data[0]
    assert client.v1.events.retrieve(event.id).data.object["name"] == "P"
    assert event.request is not None
    assert event.request.id is not None
    assert event.request.id.startswith("req_")


def test_preregistered_endpoint_with_given_secret() -> None:
    receiver = Receiver()
    server = SandboxServer(port=0, webhook_url=receiver.url, webhook_secret="whsec_fixed_for_tests",
                           retry_delays=[0.05]).start()
    try:
        client = stripe.StripeClient("sk_test_pre", base_addresses={"api": server.url})
        client.v1.customers.create(params={"email": "p@example.com"})
        assert requests.post(f"{server.url}/_sandbox/webhooks/flush", json={}, timeout=10).status_code == 200
        req = receiver.requests[0]
        event = stripe.Webhook.construct_event(req["body"], req["headers"]["Stripe-Signature"],
                                               "whsec_fixed_for_tests")
        assert event.type == "customer.created"
    finally:
        server.stop()
        receiver.close()
