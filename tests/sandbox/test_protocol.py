"""Wire protocol: auth, bracket-notation forms, idempotency, pagination, expand, error shapes."""

from __future__ import annotations

import pytest
import requests
import stripe

from local.stripe_sandbox.forms import decode_query

from .conftest import API_KEY


def test_decode_bracket_notation() -> None:
    decoded = decode_query(
        "metadata[track]=DP&line_items[0][price]=price_1&line_items[0][quantity]=2&line_items[1][price]=price_2"
        "&expand[]=customer&expand[]=payment_intent&items[0][metadata][a]=b&flag=true&empty="
    )
    assert decoded == {
        "metadata": {"track": "DP"},
        "line_items": [{"price": "price_1", "quantity": "2"}, {"price": "price_2"}],
        "expand": ["customer", "payment_intent"],
        "items": [{"metadata": {"a": "b"}}],
        "flag": "true",
        "empty": "",
    }


def test_raw_form_post_and_query_params(sandbox) -> None:
    auth = {"Authorization": f"Bearer {API_KEY}"}
    r = requests.post(f"{sandbox.url}/v1/customers", headers=auth,
                      data="email=raw%40example.com&metadata[track]=DP&metadata[user_id]=u1&expand[]=test_clock",
                      timeout=5)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["object"] == "customer"
    assert body["id"].startswith("cus_")
    assert body["metadata"] == {"track": "DP", "user_id": "u1"}
    assert r.headers["Request-Id"].startswith("req_")
    # GET with query parameters in the same notation
    r = requests.get(f"{sandbox.url}/v1/customers?email=raw%40example.com&limit=1", headers=auth, timeout=5)
    assert [c["id"] for c in r.json()["data"]] == [body["id"]]
    # Basic auth (curl -u sk_test_...:) works too
    r = requests.get(f"{sandbox.url}/v1/customers/{body['id']}", auth=(API_KEY, ""), timeout=5)
    assert r.json()["email"] == "raw@example.com"


# A live-mode key (made up, and assembled so that it does not read as a committed secret) is refused.
FAKE_LIVE_KEY = "sk_live_" + "x" * 16


@pytest.mark.parametrize(("headers", "fragment"), [
    ({}, "You did not provide an API key"),
    ({"Authorization": f"Bearer {FAKE_LIVE_KEY}"}, "Invalid API Key provided: sk_live_"),
    ({"Authorization": "Bearer pk_live_123456789"}, "Invalid API Key provided"),
    # a publishable key is a valid key, but only for Stripe's client-side endpoints
    ({"Authorization": "Bearer pk_test_123456789"}, "cannot be made with a publishable API key"),
])
def test_bad_api_key_is_401_with_stripe_error(sandbox, headers, fragment) -> None:
    r = requests.get(f"{sandbox.url}/v1/customers", headers=headers, timeout=5)
    assert r.status_code == 401
    err = r.json()["error"]
    assert err["type"] == "invalid_request_error"
    assert fragment in err["message"]


def test_sdk_raises_authentication_error(sandbox) -> None:
    bad = stripe.StripeClient("sk_live_nope_nope", base_addresses={"api": sandbox.url})
    with pytest.raises(stripe.AuthenticationError):
        bad.v1.customers.list()


def test_unknown_route_and_unknown_param(client, sandbox) -> None:
    r = requests.get(f"{sandbox.url}/v1/nope", headers={"Authorization": f"Bearer {API_KEY}"}, timeout=5)
    assert r.status_code == 404
    assert "Unrecognized request URL" in r.json()["error"]["message"]
    with pytest.raises(stripe.InvalidRequestError) as exc:
        client.v1.customers.create(params={"emial": "typo@example.com"})
    assert exc.value.code == "parameter_unknown"
    assert exc.value.param == "emial"


def test_missing_param_and_resource_missing_shapes(client, sandbox) -> None:
    with pytest.raises(stripe.InvalidRequestError) as exc:
        client.v1.products.create(params={})
    assert exc.value.http_status == 400
    assert exc.value.code == "parameter_missing"
    assert exc.value.param == "name"
    r = requests.get(f"{sandbox.url}/v1/customers/cus_x", headers={"Authorization": f"Bearer {API_KEY}"},
                     timeout=5)
    assert r.status_code == 404
    err = r.json()["error"]
    assert err["type"] == "invalid_request_error"
    assert err["code"] == "resource_missing"
    assert err["param"] == "id"
    assert err["message"] == "No such customer: 'cus_x'"


def test_idempotency_replay_and_mismatch(client) -> None:
    first = client.v1.customers.create(params={"email": "a@example.com"}, options={"idempotency_key": "key-1"})
    again = client.v1.customers.create(params={"email": "a@example.com"}, options={"idempotency_key": "key-1"})
    assert again.id == first.id
    assert len(client.v1.customers.list().data) == 1
    with pytest.raises(stripe.IdempotencyError) as exc:
        client.v1.customers.create(params={"email": "b@example.com"}, options={"idempotency_key": "key-1"})
    assert exc.value.http_status == 400
    assert exc.value.error is not None
    assert exc.value.error.type == "idempotency_error"
    # a different key executes again
    other = client.v1.customers.create(params={"email": "a@example.com"}, options={"idempotency_key": "key-2"})
    assert other.id != first.id


def test_idempotency_replays_errors_and_sets_header(sandbox) -> None:
    headers = {"Authorization": f"Bearer {API_KEY}", "Idempotency-Key": "err-1"}
    r1 = requests.post(f"{sandbox.url}/v1/products", headers=headers, data={}, timeout=5)
    r2 = requests.post(f"{sandbox.url}/v1/products", headers=headers, data={}, timeout=5)
    assert r1.status_code == r2.status_code == 400
    assert r1.json() == r2.json()
    assert r2.headers.get("Idempotent-Replayed") == "true"
    # keys are scoped per API key
    other = {"Authorization": "Bearer sk_test_other", "Idempotency-Key": "err-1"}
    r3 = requests.post(f"{sandbox.url}/v1/products", headers=other, data={"name": "x"}, timeout=5)
    assert r3.status_code == 200


def test_pagination(client) -> None:
    ids = [client.v1.products.create(params={"name": f"P{i}"}).id for i in range(5)]
    newest_first = list(reversed(ids))
    page1 = client.v1.products.list(params={"limit": 2})
    assert [p.id for p in page1.data] == newest_first[:2]
    assert page1.has_more is True
    page2 = client.v1.products.list(params={"limit": 2, "starting_after": page1.data[-1].id})
    assert [p.id for p in page2.data] == newest_first[2:4]
    page3 = client.v1.products.list(params={"limit": 2, "starting_after": page2.data[-1].id})
    assert [p.id for p in page3.data] == newest_first[4:]
    assert page3.has_more is False
    before = client.v1.products.list(params={"limit": 2, "ending_before": newest_first[3]})
    assert [p.id for p in before.data] == newest_first[1:3]
    assert before.has_more is True
    assert [p.id for p in client.v1.products.list(params={"limit": 2}).auto_paging_iter()] == newest_first
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.products.list(params={"limit": 101})
    with pytest.raises(stripe.InvalidRequestError) as exc:
        client.v1.products.list(params={"starting_after": "prod_missing"})
    assert exc.value.http_status == 404


def test_expand_on_retrieve_and_list(client) -> None:
    customer = client.v1.customers.create(params={"email": "e@example.com"})
    pi = client.v1.payment_intents.create(params={"amount": 1000, "currency": "usd", "customer": customer.id,
                                                  "payment_method": "pm_card_visa", "confirm": True})
    assert isinstance(pi.latest_charge, str)
    expanded = client.v1.payment_intents.retrieve(pi.id, params={"expand": ["customer", "latest_charge"]})
    assert expanded.customer.email == "e@example.com"
    assert expanded.latest_charge.object == "charge"
    listed = client.v1.payment_intents.list(params={"expand": ["data.customer"]})
    assert listed.data[0].customer.id == customer.id
    nested = client.v1.charges.retrieve(expanded.latest_charge.id,
                                        params={"expand": ["payment_intent.customer"]})
    assert nested.payment_intent.customer.id == customer.id
    with pytest.raises(stripe.InvalidRequestError) as exc:
        client.v1.payment_intents.retrieve(pi.id, params={"expand": ["amount"]})
    assert "cannot be expanded" in str(exc.value)


def test_sdk_retry_headers_and_telemetry_do_not_break(sandbox) -> None:
    c = stripe.StripeClient(API_KEY, base_addresses={"api": sandbox.url}, max_network_retries=3)
    for _ in range(3):  # second and later requests carry X-Stripe-Client-Telemetry
        c.v1.customers.create(params={"email": "t@example.com"})
    assert len(c.v1.customers.list().data) == 3
    r = requests.get(f"{sandbox.url}/v1/customers", timeout=5, headers={
        "Authorization": f"Bearer {API_KEY}", "Stripe-Version": stripe.api_version,
        "X-Stripe-Client-Telemetry": '{"last_request_metrics": {"request_id": "req_x", "request_duration_ms": 3}}',
        "X-Stripe-Client-User-Agent": "{}"})
    assert r.status_code == 200
    assert r.headers["Stripe-Version"] == stripe.api_version
