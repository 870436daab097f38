"""Checkout Sessions through the SDK, completed with the test-control route (same code path as the page)."""

from __future__ import annotations

import pytest
import requests
import stripe


@pytest.fixture
def prices(client):
    product = client.v1.products.create(params={"name": "Data Pipelines"})
    once = client.v1.prices.create(params={"product": product.id, "unit_amount": 4900, "currency": "usd"})
    monthly = client.v1.prices.create(params={"product": product.id, "unit_amount": 1500, "currency": "usd",
                                              "recurring": {"interval": "month"}})
    return {"once": once, "monthly": monthly}


def _session(client, prices, **params):
    base = {"mode": "payment", "line_items": [{"price": prices["once"].id, "quantity": 1}],
            "success_url": "https://app.example/success?session_id={CHECKOUT_SESSION_ID}",
            "cancel_url": "https://app.example/cancel"}
    return client.v1.checkout.sessions.create(params={**base, **params})


def test_create_shape_and_hosted_url(client, prices, sandbox) -> None:
    cs = _session(client, prices, metadata={"user_id": "u1"}, client_reference_id="ref-1")
    assert cs.id.startswith("cs_test_")
    assert cs.object == "checkout.session"
    assert (cs.status, cs.payment_status, cs.mode) == ("open", "unpaid", "payment")
    assert cs.amount_total == 4900
    assert cs.currency == "usd"
    assert cs.url == f"{sandbox.url}/c/pay/{cs.id}"
    assert cs.expires_at - cs.created == 24 * 3600
    assert cs.payment_intent is None
    page = requests.get(cs.url, timeout=5)
    assert page.status_code == 200
    assert "Data Pipelines" in page.text
    assert 'href=\'https://app.example/cancel\'' in page.text
    items = client.v1.checkout.sessions.line_items.list(cs.id)
    assert len(items.data) == 1
    item = items.data[0]
    assert (item.object, item.amount_total, item.quantity, item.description) == ("item", 4900, 1, "Data Pipelines")
    assert item.price is not None
    assert item.price.id == prices["once"].id
    expanded = client.v1.checkout.sessions.retrieve(cs.id, params={"expand": ["line_items"]})
    assert expanded.line_items is not None
    assert expanded.line_items.data[0].id == item.id


def test_payment_mode_completion(client, prices, control) -> None:
    cs = _session(client, prices, customer_creation="always", metadata={"user_id": "u1"},
                  client_reference_id="ref-1",
                  payment_intent_data={"metadata": {"enrollment": "e1"}, "transfer_group": "enrollment-e1"})
    outcome = control.complete(cs.id, email="ada@example.com", name="Ada Lovelace")
    assert outcome["outcome"] == "complete"
    assert outcome["redirect_url"] == f"https://app.example/success?session_id={cs.id}"
    done = client.v1.checkout.sessions.retrieve(cs.id, params={"expand": ["payment_intent"]})
    assert (done.status, done.payment_status) == ("complete", "paid")
    assert done.url is None
    assert done.customer_details is not None
    assert (done.customer_details.email, done.customer_details.name) == ("ada@example.com", "Ada Lovelace")
    assert done.metadata.to_dict() == {"user_id": "u1"}
    assert done.client_reference_id == "ref-1"
    pi = done.payment_intent
    assert isinstance(pi, stripe.PaymentIntent)
    assert pi.status == "succeeded"
    assert pi.amount == 4900
    assert pi.metadata.to_dict() == {"enrollment": "e1"}  # session metadata is not copied, as on Stripe
    assert (pi.transfer_group, client.v1.charges.retrieve(pi.latest_charge).transfer_group) == ("enrollment-e1",) * 2
    customer = client.v1.customers.retrieve(done.customer)
    assert customer.email == "ada@example.com"
    assert pi.customer == customer.id
    types = [e.type for e in reversed(client.v1.events.list(params={"limit": 100}).data)]
    assert types.index("customer.created") < types.index("payment_intent.succeeded") \
        < types.index("checkout.session.completed")
    assert "charge.succeeded" in types
    completed = client.v1.events.list(params={"type": "checkout.session.completed"}).data[0]
    assert completed.data.object["id"] == cs.id
    control.complete(cs.id, expect=400)  # not open any more


def test_payment_mode_guest_has_no_customer(client, prices, control) -> None:
    cs = _session(client, prices)
    assert control.complete(cs.id)["outcome"] == "complete"
    done = client.v1.checkout.sessions.retrieve(cs.id)
    assert done.customer is None
    assert done.customer_details is not None
    assert done.customer_details.email == "ada@example.com"
    assert client.v1.customers.list().data == []


def test_existing_customer_and_customer_email(client, prices, control) -> None:
    customer = client.v1.customers.create(params={"email": "known@example.com"})
    cs = _session(client, prices, customer=customer.id)
    control.complete(cs.id, email="ignored@example.com")
    done = client.v1.checkout.sessions.retrieve(cs.id)
    assert done.customer == customer.id
    assert done.customer_details.email == "known@example.com"
    cs2 = _session(client, prices, customer_email="prefill@example.com")
    assert cs2.customer_email == "prefill@example.com"
    control.complete(cs2.id, email="other@example.com")
    assert client.v1.checkout.sessions.retrieve(cs2.id).customer_details.email == "prefill@example.com"
    with pytest.raises(stripe.InvalidRequestError):
        _session(client, prices, customer=customer.id, customer_email="x@example.com")


def test_declined_then_success_on_same_session(client, prices, control) -> None:
    cs = _session(client, prices)
    declined = control.complete(cs.id, card="4000000000009995")
    assert declined["outcome"] == "declined"
    assert declined["error"]["decline_code"] == "insufficient_funds"
    still_open = client.v1.checkout.sessions.retrieve(cs.id)
    assert still_open.status == "open"
    ok = control.complete(cs.id, card="4242424242424242")
    assert ok["outcome"] == "complete"
    done = client.v1.checkout.sessions.retrieve(cs.id)
    assert done.payment_intent == declined["payment_intent"]
    types = [e.type for e in client.v1.events.list(params={"limit": 100}).data]
    assert types.count("payment_intent.payment_failed") == 1
    assert types.count("checkout.session.completed") == 1


def test_3ds_in_checkout(client, prices, control) -> None:
    cs = _session(client, prices)
    pending = control.complete(cs.id, card="4000002500003155")
    assert pending["outcome"] == "requires_action"
    assert pending["three_d_secure_url"].endswith(f"/3ds/{pending['payment_intent']}")
    assert client.v1.checkout.sessions.retrieve(cs.id).status == "open"
    control.post(f"/payment_intents/{pending['payment_intent']}/three_d_secure", {"result": "succeed"})
    done = client.v1.checkout.sessions.retrieve(cs.id)
    assert (done.status, done.payment_status) == ("complete", "paid")


def test_subscription_mode_completion(client, prices, control) -> None:
    cs = _session(client, prices, mode="subscription",
                  line_items=[{"price": prices["monthly"].id, "quantity": 2}],
                  subscription_data={"metadata": {"enrollment": "e9"}})
    assert cs.amount_total == 3000
    assert control.complete(cs.id)["outcome"] == "complete"
    done = client.v1.checkout.sessions.retrieve(cs.id, params={"expand": ["subscription", "invoice"]})
    assert (done.status, done.payment_status) == ("complete", "paid")
    sub = done.subscription
    assert isinstance(sub, stripe.Subscription)
    assert sub.status == "active"
    assert sub.metadata.to_dict() == {"enrollment": "e9"}
    assert sub.customer == done.customer
    item = sub["items"].data[0]
    assert item.quantity == 2
    assert item.current_period_end > item.current_period_start
    invoice = done.invoice
    assert isinstance(invoice, stripe.Invoice)
    assert (invoice.status, invoice.amount_paid, invoice.billing_reason) == ("paid", 3000, "subscription_create")
    assert invoice.parent is not None
    assert invoice.parent.subscription_details is not None
    assert invoice.parent.subscription_details.subscription == sub.id
    assert invoice["subscription"] == sub.id
    types = [e.type for e in reversed(client.v1.events.list(params={"limit": 100}).data)]
    for t in ("customer.created", "payment_method.attached", "customer.subscription.created", "invoice.created",
              "invoice.paid", "customer.subscription.updated", "checkout.session.completed"):
        assert t in types
    assert types.index("invoice.paid") < types.index("checkout.session.completed")


def test_subscription_mode_decline_creates_nothing(client, prices, control) -> None:
    cs = _session(client, prices, mode="subscription", line_items=[{"price": prices["monthly"].id, "quantity": 1}])
    assert control.complete(cs.id, card="4000000000000341")["outcome"] == "declined"
    assert client.v1.subscriptions.list(params={"status": "all"}).data == []
    assert client.v1.checkout.sessions.retrieve(cs.id).status == "open"


@pytest.mark.parametrize(("params", "param"), [
    ({"mode": "payment", "line_items": []}, "line_items"),
    ({"mode": "payment", "price": "monthly"}, "line_items"),
    ({"mode": "subscription", "price": "once"}, "line_items"),
    ({"mode": "payment", "success_url": "not a url"}, "success_url"),
    ({"mode": "payment", "expires_at_offset": 60}, "expires_at"),
])
def test_create_validation(client, prices, params, param) -> None:
    body: dict = {"mode": params["mode"], "success_url": params.get("success_url", "https://x.example/ok"),
                  "line_items": params.get("line_items",
                                           [{"price": prices[params.get("price", "once")].id, "quantity": 1}])}
    if "expires_at_offset" in params:
        import time

        body["expires_at"] = int(time.time()) + params["expires_at_offset"]
    with pytest.raises(stripe.InvalidRequestError) as exc:
        client.v1.checkout.sessions.create(params=body)
    assert exc.value.param == param


def test_expire_and_automatic_expiry(client, prices, control) -> None:
    cs = _session(client, prices)
    expired = client.v1.checkout.sessions.expire(cs.id)
    assert (expired.status, expired.url) == ("expired", None)
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.checkout.sessions.expire(cs.id)
    assert requests.get(f"{control.url}/c/pay/{cs.id}", timeout=5).status_code == 410
    # 24 h later an open session expires by itself (the sandbox's wall clock can be shifted for tests)
    cs2 = _session(client, prices)
    control.post("/config", {"time_offset": 24 * 3600 + 1})
    assert client.v1.checkout.sessions.retrieve(cs2.id).status == "expired"
    assert len(client.v1.events.list(params={"type": "checkout.session.expired"}).data) == 2


def test_list_sessions_filters(client, prices, control) -> None:
    a = _session(client, prices)
    b = _session(client, prices)
    control.complete(a.id)
    assert [s.id for s in client.v1.checkout.sessions.list(params={"status": "complete"}).data] == [a.id]
    assert [s.id for s in client.v1.checkout.sessions.list(params={"status": "open"}).data] == [b.id]
    pi = client.v1.checkout.sessions.retrieve(a.id).payment_intent
    assert [s.id for s in client.v1.checkout.sessions.list(params={"payment_intent": pi}).data] == [a.id]


def test_async_bank_debit_events(client, prices, control) -> None:
    ok = _session(client, prices)
    outcome = control.complete(ok.id, payment_method_type="us_bank_account", account_number="000123456789")
    assert outcome["outcome"] == "processing"
    session = client.v1.checkout.sessions.retrieve(ok.id)
    assert (session.status, session.payment_status) == ("complete", "unpaid")
    assert client.v1.payment_intents.retrieve(outcome["payment_intent"]).status == "processing"
    control.post(f"/payment_intents/{outcome['payment_intent']}/settle")
    assert client.v1.checkout.sessions.retrieve(ok.id).payment_status == "paid"
    bad = _session(client, prices)
    outcome = control.complete(bad.id, payment_method_type="us_bank_account", account_number="000222222227")
    control.post(f"/payment_intents/{outcome['payment_intent']}/settle")
    types = [e.type for e in client.v1.events.list(params={"limit": 100}).data]
    assert types.count("checkout.session.async_payment_succeeded") == 1
    assert types.count("checkout.session.async_payment_failed") == 1
    assert "payment_intent.processing" in types
