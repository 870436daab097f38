"""Checkout Sessions in mode=setup (completed through the control route, the hosted page's code path),
and setup_future_usage through Checkout's payment_intent_data."""

from __future__ import annotations

import pytest
import requests
import stripe


def _setup_session(client, **params):
    base = {"mode": "setup", "currency": "usd", "success_url": "https://app.example/saved?cs={CHECKOUT_SESSION_ID}",
            "cancel_url": "https://app.example/cancel"}
    return client.v1.checkout.sessions.create(params={**base, **params})


def test_setup_session_shape(client) -> None:
    customer = client.v1.customers.create(params={"email": "tutee@example.com"})
    cs = _setup_session(client, customer=customer.id, setup_intent_data={"metadata": {"plan": "weekly"},
                                                                           "description": "Weekly tutoring"})
    assert (cs.mode, cs.status, cs.payment_status) == ("setup", "open", "no_payment_required")
    assert (cs.amount_total, cs.amount_subtotal, cs.payment_intent, cs.currency) == (None, None, None, "usd")
    assert cs.setup_intent is not None
    assert cs.setup_intent.startswith("seti_")
    si = client.v1.setup_intents.retrieve(cs.setup_intent)
    assert (si.status, si.customer, si.description) == ("requires_payment_method", customer.id, "Weekly tutoring")
    assert si.metadata.to_dict() == {"plan": "weekly"}
    # the session owns its SetupIntent
    for call in (lambda: client.v1.setup_intents.confirm(si.id, params={"payment_method": "pm_card_visa"}),
                 lambda: client.v1.setup_intents.cancel(si.id)):
        with pytest.raises(stripe.InvalidRequestError) as exc:
            call()
        assert exc.value.code == "setup_intent_unexpected_state"
    page = requests.get(cs.url, timeout=5)
    assert page.status_code == 200
    assert "Save card" in page.text
    assert client.v1.checkout.sessions.line_items.list(cs.id).data == []


@pytest.mark.parametrize(("params", "param"), [
    ({"line_items": [{"price_data": {"currency": "usd", "unit_amount": 100, "product_data": {"name": "x"}},
                      "quantity": 1}]}, "line_items"),
    ({"currency": None}, "currency"),
    ({"payment_intent_data": {"metadata": {"a": "b"}}}, "payment_intent_data"),
    ({"setup_intent_data": {"on_behalf_of": "acct_1"}}, "setup_intent_data[on_behalf_of]"),
    ({"payment_method_types": ["us_bank_account"]}, "payment_method_types"),
])
def test_setup_session_refuses(client, params, param) -> None:
    base = {"mode": "setup", "currency": "usd", "success_url": "https://app.example/saved", **params}
    with pytest.raises(stripe.InvalidRequestError) as exc:
        client.v1.checkout.sessions.create(params={k: v for k, v in base.items() if v is not None})
    assert exc.value.param == param


def test_completing_a_setup_session_saves_the_card(client, control) -> None:
    customer = client.v1.customers.create(params={"email": "tutee@example.com", "name": "Tom Tutee"})
    cs = _setup_session(client, customer=customer.id, metadata={"user": "u7"})
    outcome = control.complete(cs.id, card="5555555555554444", email="ignored@example.com", name="Tom Tutee")
    assert outcome["outcome"] == "complete"
    assert outcome["redirect_url"] == f"https://app.example/saved?cs={cs.id}"
    assert (outcome["setup_intent"], outcome["payment_intent"]) == (cs.setup_intent, None)
    done = client.v1.checkout.sessions.retrieve(cs.id, params={"expand": ["setup_intent"]})
    assert (done.status, done.payment_status) == ("complete", "no_payment_required")
    assert done.customer_details is not None
    assert done.customer_details.email == "tutee@example.com"
    si = done.setup_intent
    assert si.status == "succeeded"
    saved = client.v1.customers.payment_methods.list(customer.id).data
    assert [pm.id for pm in saved] == [si.payment_method]
    assert saved[0].card.last4 == "4444"
    completed = client.v1.events.list(params={"type": "checkout.session.completed"}).data
    assert [e.data.object.id for e in completed] == [cs.id]
    assert completed[0].data.object.setup_intent == si.id
    pay = client.v1.payment_intents.create(params={"amount": 3500, "currency": "usd", "customer": customer.id,
                                                   "payment_method": si.payment_method, "off_session": True,
                                                   "confirm": True})
    assert pay.status == "succeeded"


def test_setup_session_with_three_d_secure(client, control) -> None:
    customer = client.v1.customers.create(params={"email": "sca@example.com"})
    cs = _setup_session(client, customer=customer.id)
    outcome = control.complete(cs.id, card="4000002500003155")
    assert outcome["outcome"] == "requires_action"
    assert outcome["three_d_secure_url"] == f"{control.url}/3ds/{cs.setup_intent}"
    assert client.v1.checkout.sessions.retrieve(cs.id).status == "open"
    control.post(f"/setup_intents/{cs.setup_intent}/three_d_secure", {"result": "succeed"})
    assert client.v1.checkout.sessions.retrieve(cs.id).status == "complete"
    si = client.v1.setup_intents.retrieve(cs.setup_intent)
    pay = client.v1.payment_intents.create(params={"amount": 900, "currency": "usd", "customer": customer.id,
                                                   "payment_method": si.payment_method, "off_session": True,
                                                   "confirm": True})
    assert pay.status == "succeeded"  # set up with authentication: exempt off-session


def test_declined_card_leaves_the_setup_session_open(client, control) -> None:
    cs = _setup_session(client, customer_creation="always")
    declined = control.complete(cs.id, card="4000000000009995", email="new@example.com")
    assert declined["outcome"] == "declined"
    assert declined["error"]["decline_code"] == "insufficient_funds"
    assert client.v1.checkout.sessions.retrieve(cs.id).status == "open"
    assert control.complete(cs.id, card="4242424242424242", email="new@example.com")["outcome"] == "complete"
    done = client.v1.checkout.sessions.retrieve(cs.id)
    assert done.customer is not None  # customer_creation=always works in setup mode
    customer = client.v1.customers.retrieve(done.customer)
    assert customer.email == "new@example.com"
    assert len(client.v1.customers.payment_methods.list(customer.id).data) == 1


def test_expiring_a_setup_session_cancels_its_setup_intent(client) -> None:
    cs = _setup_session(client)
    client.v1.checkout.sessions.expire(cs.id)
    si = client.v1.setup_intents.retrieve(cs.setup_intent)
    assert (si.status, si.cancellation_reason) == ("canceled", "abandoned")


def test_checkout_payment_with_setup_future_usage(client, control) -> None:
    product = client.v1.products.create(params={"name": "First lesson"})
    price = client.v1.prices.create(params={"product": product.id, "unit_amount": 2500, "currency": "usd"})
    with pytest.raises(stripe.InvalidRequestError) as exc:
        client.v1.checkout.sessions.create(params={
            "mode": "payment", "line_items": [{"price": price.id, "quantity": 1}],
            "payment_intent_data": {"setup_future_usage": "sometimes"}})
    assert exc.value.param == "payment_intent_data[setup_future_usage]"
    cs = client.v1.checkout.sessions.create(params={
        "mode": "payment", "line_items": [{"price": price.id, "quantity": 1}], "customer_creation": "always",
        "success_url": "https://app.example/ok", "payment_intent_data": {"setup_future_usage": "off_session"}})
    assert control.complete(cs.id, card="4000002500003155")["outcome"] == "requires_action"
    pi_id = client.v1.checkout.sessions.retrieve(cs.id).payment_intent
    if pi_id is None:  # the session records its PaymentIntent on completion
        pi_id = client.v1.payment_intents.list(params={"limit": 1}).data[0].id
    control.post(f"/payment_intents/{pi_id}/three_d_secure", {"result": "succeed"})
    done = client.v1.checkout.sessions.retrieve(cs.id, params={"expand": ["payment_intent"]})
    assert (done.status, done.payment_status) == ("complete", "paid")
    assert done.payment_intent.setup_future_usage == "off_session"
    pm = client.v1.payment_methods.retrieve(done.payment_intent.payment_method)
    assert pm.customer == done.customer
    again = client.v1.payment_intents.create(params={"amount": 2500, "currency": "usd", "customer": done.customer,
                                                     "payment_method": pm.id, "off_session": True, "confirm": True})
    assert again.status == "succeeded"


@pytest.mark.parametrize(("params", "param", "code"), [
    ({"phone_number_collection": {"enabled": True}}, "phone_number_collection[enabled]", "parameter_invalid_boolean"),
    ({"automatic_tax": {"enabled": True}}, "automatic_tax[enabled]", "parameter_invalid_boolean"),
    ({"invoice_creation": {"enabled": True}}, "invoice_creation[enabled]", "parameter_invalid_boolean"),
    ({"billing_address_collection": "required"}, "billing_address_collection", "parameter_invalid_string"),
    ({"payment_method_types": ["ideal"]}, "payment_method_types", "parameter_invalid_string"),
    ({"currency": "eur"}, "currency", "parameter_invalid_string"),
    ({"custom_text": {"submit": {"message": "Thanks"}}}, "custom_text", "parameter_unknown"),
    ({"consent_collection": {"terms_of_service": "required"}}, "consent_collection", "parameter_unknown"),
    ({"saved_payment_method_options": {"payment_method_save": "enabled"}}, "saved_payment_method_options",
     "parameter_unknown"),
])
def test_checkout_options_the_page_cannot_honour_are_refused(client, params, param, code) -> None:
    product = client.v1.products.create(params={"name": "Lesson"})
    price = client.v1.prices.create(params={"product": product.id, "unit_amount": 1000, "currency": "usd"})
    base = {"mode": "payment", "line_items": [{"price": price.id, "quantity": 1}]}
    with pytest.raises(stripe.InvalidRequestError) as exc:
        client.v1.checkout.sessions.create(params={**base, **params})
    assert (exc.value.param, exc.value.code) == (param, code)
    # switched off (or the default) they are fine
    ok = client.v1.checkout.sessions.create(params={**base, "phone_number_collection": {"enabled": False},
                                                    "billing_address_collection": "auto", "currency": "usd"})
    assert ok.status == "open"
