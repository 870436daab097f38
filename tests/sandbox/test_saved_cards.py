"""Saved cards: client-side SetupIntent confirmation (publishable key + client secret), 3-D Secure on setup,
setup_future_usage, off-session payments with saved cards and the customer's default payment method."""

from __future__ import annotations

import pytest
import requests
import stripe

from .conftest import API_KEY

PUBLISHABLE_KEY = "pk_test_sandbox_frontend"
CARD = {"exp_month": 12, "exp_year": 2034, "cvc": "123"}


@pytest.fixture
def frontend(sandbox) -> stripe.StripeClient:
    """What a browser holds: the publishable key only."""
    return stripe.StripeClient(PUBLISHABLE_KEY, base_addresses={"api": sandbox.url})


def _card_data(number: str) -> dict:
    return {"type": "card", "card": {"number": number, **CARD}, "billing_details": {"name": "Ada Lovelace"}}


def _save_card_client_side(client, frontend, number: str, **confirm):
    customer = client.v1.customers.create(params={"email": "saver@example.com"})
    si = client.v1.setup_intents.create(params={"customer": customer.id, "metadata": {"purpose": "tutoring"}})
    confirmed = frontend.v1.setup_intents.confirm(si.id, params={
        "client_secret": si.client_secret, "payment_method_data": _card_data(number), **confirm})
    return customer, si, confirmed


def _types(client) -> list[str]:
    return [e.type for e in client.v1.events.list(params={"limit": 100}).data]


def test_client_side_confirm_saves_the_card(client, frontend) -> None:
    customer, si, confirmed = _save_card_client_side(client, frontend, "4242424242424242")
    assert confirmed.status == "succeeded"
    assert isinstance(confirmed.payment_method, str)
    # the publishable key sees Stripe's client-side subset: no customer, no metadata
    assert "customer" not in confirmed
    assert "metadata" not in confirmed
    seen = frontend.v1.setup_intents.retrieve(si.id, params={"client_secret": si.client_secret})
    assert (seen.status, seen.payment_method) == ("succeeded", confirmed.payment_method)
    # the server sees everything, and the card is on the customer
    full = client.v1.setup_intents.retrieve(si.id)
    assert full.customer == customer.id
    assert full.metadata.to_dict() == {"purpose": "tutoring"}
    listed = client.v1.customers.payment_methods.list(customer.id)
    assert [pm.id for pm in listed.data] == [confirmed.payment_method]
    card = listed.data[0].card
    assert card is not None
    assert (card.brand, card.last4, card.exp_month, card.exp_year) == ("visa", "4242", 12, 2034)
    assert listed.data[0].billing_details.name == "Ada Lovelace"
    types = _types(client)
    assert {"setup_intent.created", "setup_intent.succeeded", "payment_method.attached"} <= set(types)
    # a saved card pays off-session
    pi = client.v1.payment_intents.create(params={"amount": 2500, "currency": "usd", "customer": customer.id,
                                                  "payment_method": confirmed.payment_method, "off_session": True,
                                                  "confirm": True})
    assert (pi.status, pi.amount_received) == ("succeeded", 2500)


def test_stripe_js_style_form_post_with_key_field(sandbox, client) -> None:
    """Stripe.js sends the publishable key as a form field (``key=``) instead of an Authorization header."""
    customer = client.v1.customers.create(params={"email": "js@example.com"})
    si = client.v1.setup_intents.create(params={"customer": customer.id})
    r = requests.post(f"{sandbox.url}/v1/setup_intents/{si.id}/confirm", timeout=5, data={
        "key": PUBLISHABLE_KEY, "client_secret": si.client_secret, "payment_method_data[type]": "card",
        "payment_method_data[card][number]": "5555555555554444", "payment_method_data[card][exp_month]": "1",
        "payment_method_data[card][exp_year]": "2035", "payment_method_data[card][cvc]": "314"})
    assert r.status_code == 200, r.text
    assert r.headers["Access-Control-Allow-Origin"] == "*"
    assert r.json()["status"] == "succeeded"
    r = requests.get(f"{sandbox.url}/v1/setup_intents/{si.id}", timeout=5,
                     params={"key": PUBLISHABLE_KEY, "client_secret": si.client_secret})
    assert r.json()["status"] == "succeeded"
    assert requests.options(f"{sandbox.url}/v1/setup_intents/{si.id}/confirm", timeout=5).status_code == 204


def test_publishable_key_only_where_stripe_allows_it(client, frontend) -> None:
    customer = client.v1.customers.create(params={"email": "limits@example.com"})
    si = client.v1.setup_intents.create(params={"customer": customer.id})
    pi = client.v1.payment_intents.create(params={"amount": 1000, "currency": "usd", "customer": customer.id})
    for call in (lambda: frontend.v1.customers.list(),
                 lambda: frontend.v1.setup_intents.create(params={"customer": customer.id}),
                 lambda: frontend.v1.setup_intents.list(),
                 lambda: frontend.v1.payment_intents.create(params={"amount": 1000, "currency": "usd"}),
                 lambda: frontend.v1.payment_intents.cancel(pi.id),
                 lambda: frontend.v1.payment_methods.list(params={"customer": customer.id})):
        with pytest.raises(stripe.AuthenticationError) as exc:
            call()
        assert exc.value.http_status == 401
        assert "cannot be made with a publishable API key" in str(exc.value.user_message)
    with pytest.raises(stripe.InvalidRequestError) as missing:
        frontend.v1.setup_intents.retrieve(si.id)
    assert (missing.value.code, missing.value.param) == ("parameter_missing", "client_secret")
    with pytest.raises(stripe.InvalidRequestError) as wrong:
        frontend.v1.setup_intents.confirm(si.id, params={"client_secret": pi.client_secret,
                                                         "payment_method": "pm_card_visa"})
    assert (wrong.value.code, wrong.value.param) == ("setup_intent_invalid_parameter", "client_secret")
    with pytest.raises(stripe.InvalidRequestError) as wrong_pi:
        frontend.v1.payment_intents.retrieve(pi.id, params={"client_secret": si.client_secret})
    assert wrong_pi.value.code == "payment_intent_invalid_parameter"
    # secret-key-only confirm parameters are unknown to a publishable key
    with pytest.raises(stripe.InvalidRequestError) as secret_only:
        frontend.v1.payment_intents.confirm(pi.id, params={"client_secret": pi.client_secret,
                                                           "payment_method": "pm_card_visa", "off_session": True})
    assert (secret_only.value.code, secret_only.value.param) == ("parameter_unknown", "off_session")
    assert client.v1.setup_intents.retrieve(si.id).status == "requires_payment_method"
    # a publishable key may create a PaymentMethod (stripe.createPaymentMethod), nothing more
    pm = frontend.v1.payment_methods.create(params=_card_data("4242424242424242"))
    assert pm.customer is None
    with pytest.raises(stripe.AuthenticationError):
        frontend.v1.payment_methods.attach(pm.id, params={"customer": customer.id})


@pytest.mark.parametrize("card", ["4000002500003155", "4000002760003184"])
def test_three_d_secure_on_setup_then_off_session(client, frontend, control, card) -> None:
    customer, si, confirmed = _save_card_client_side(client, frontend, card, return_url="https://app.example/back")
    assert confirmed.status == "requires_action"
    assert confirmed.next_action is not None
    redirect = confirmed.next_action.redirect_to_url
    assert redirect is not None
    assert (redirect.url, redirect.return_url) == (f"{control.url}/3ds/{si.id}", "https://app.example/back")
    assert "setup_intent.requires_action" in _types(client)
    assert client.v1.customers.payment_methods.list(customer.id).data == []  # not saved before authentication
    done = control.post(f"/setup_intents/{si.id}/three_d_secure", {"result": "succeed"})
    assert done["status"] == "succeeded"
    pm_id = done["payment_method"]
    assert [pm.id for pm in client.v1.customers.payment_methods.list(customer.id).data] == [pm_id]
    off_session = {"amount": 4000, "currency": "usd", "customer": customer.id, "payment_method": pm_id,
                   "off_session": True, "confirm": True}
    if card == "4000002500003155":  # set up once, then exempt off-session
        assert client.v1.payment_intents.create(params=off_session).status == "succeeded"
        return
    # 3184 wants authentication on every payment: off-session it is declined with authentication_required
    with pytest.raises(stripe.CardError) as exc:
        client.v1.payment_intents.create(params=off_session)
    err = exc.value.error
    assert err is not None
    assert (err.code, err.decline_code) == ("authentication_required", "authentication_required")
    assert err.payment_intent is not None
    declined = client.v1.payment_intents.retrieve(err.payment_intent.id)
    assert declined.status == "requires_payment_method"
    assert declined.last_payment_error is not None
    assert declined.last_payment_error.payment_method.id == pm_id
    charge = client.v1.charges.retrieve(err.charge)
    assert (charge.status, charge.failure_code) == ("failed", "authentication_required")
    # the customer comes back on-session and authenticates with the saved card (confirmCardPayment)
    retried = frontend.v1.payment_intents.confirm(declined.id, params={
        "client_secret": declined.client_secret, "payment_method": pm_id, "return_url": "https://app.example/pay"})
    assert retried.status == "requires_action"
    assert "customer" not in retried
    paid = control.post(f"/payment_intents/{declined.id}/three_d_secure", {"result": "succeed"})
    assert (paid["status"], paid["amount_received"]) == ("succeeded", 4000)


def test_failed_authentication_on_setup(client, frontend, control) -> None:
    _, si, confirmed = _save_card_client_side(client, frontend, "4000002760003184")
    assert confirmed.status == "requires_action"
    failed = control.post(f"/setup_intents/{si.id}/three_d_secure", {"result": "fail"})
    assert (failed["status"], failed["payment_method"]) == ("requires_payment_method", None)
    assert failed["last_setup_error"]["code"] == "setup_intent_authentication_failure"
    assert "setup_intent.setup_failed" in _types(client)
    again = frontend.v1.setup_intents.confirm(si.id, params={"client_secret": si.client_secret,
                                                             "payment_method_data": _card_data("4242424242424242")})
    assert again.status == "succeeded"


def test_declined_card_on_setup(client, frontend) -> None:
    customer = client.v1.customers.create(params={"email": "declined@example.com"})
    si = client.v1.setup_intents.create(params={"customer": customer.id})
    with pytest.raises(stripe.CardError) as exc:
        frontend.v1.setup_intents.confirm(si.id, params={"client_secret": si.client_secret,
                                                         "payment_method_data": _card_data("4000000000000002")})
    assert exc.value.http_status == 402
    assert exc.value.error is not None
    assert exc.value.error.decline_code == "generic_decline"
    assert exc.value.error.setup_intent is not None
    assert "customer" not in exc.value.error.setup_intent  # the publishable view, in the error too
    si = client.v1.setup_intents.retrieve(si.id)
    assert si.status == "requires_payment_method"
    assert si.last_setup_error is not None
    assert si.last_setup_error.decline_code == "generic_decline"
    assert client.v1.customers.payment_methods.list(customer.id).data == []


@pytest.mark.parametrize(("card", "decline_code"), [
    ("4000000000000341", "generic_decline"),  # sets up fine, every charge fails
])
def test_off_session_decline_of_a_saved_card(client, card, decline_code) -> None:
    customer = client.v1.customers.create(params={"email": "off@example.com"})
    pm = client.v1.payment_methods.create(params=_card_data(card))
    si = client.v1.setup_intents.create(params={"customer": customer.id, "payment_method": pm.id, "confirm": True})
    assert si.status == "succeeded"
    with pytest.raises(stripe.CardError) as exc:
        client.v1.payment_intents.create(params={"amount": 1500, "currency": "usd", "customer": customer.id,
                                                 "payment_method": pm.id, "off_session": True, "confirm": True})
    assert exc.value.code == "card_declined"
    assert exc.value.error is not None
    assert exc.value.error.decline_code == decline_code
    assert exc.value.error.payment_intent is not None
    assert exc.value.error.payment_intent.status == "requires_payment_method"


@pytest.mark.parametrize(("future_usage", "off_session_outcome"), [("off_session", "succeeded"),
                                                                    ("on_session", "authentication_required")])
def test_setup_future_usage_saves_the_card(client, control, future_usage, off_session_outcome) -> None:
    customer = client.v1.customers.create(params={"email": "sfu@example.com"})
    pi = client.v1.payment_intents.create(params={
        "amount": 3000, "currency": "usd", "customer": customer.id, "setup_future_usage": future_usage,
        "payment_method_data": _card_data("4000002500003155"), "confirm": True,
        "return_url": "https://app.example/done"})
    assert (pi.status, pi.setup_future_usage) == ("requires_action", future_usage)
    control.post(f"/payment_intents/{pi.id}/three_d_secure", {"result": "succeed"})
    saved = client.v1.payment_methods.retrieve(pi.payment_method)
    assert saved.customer == customer.id
    params = {"amount": 1000, "currency": "usd", "customer": customer.id, "payment_method": saved.id,
              "off_session": True, "confirm": True}
    if off_session_outcome == "succeeded":
        assert client.v1.payment_intents.create(params=params).status == "succeeded"
    else:
        with pytest.raises(stripe.CardError) as exc:
            client.v1.payment_intents.create(params=params)
        assert exc.value.code == "authentication_required"


def test_on_session_setup_does_not_exempt_off_session_payments(client, control) -> None:
    customer = client.v1.customers.create(params={"email": "onsession@example.com"})
    si = client.v1.setup_intents.create(params={
        "customer": customer.id, "usage": "on_session", "confirm": True,
        "payment_method": "pm_card_authenticationRequiredOnSetup"})
    assert (si.status, si.usage) == ("requires_action", "on_session")
    pm_id = control.post(f"/setup_intents/{si.id}/three_d_secure", {"result": "succeed"})["payment_method"]
    with pytest.raises(stripe.CardError) as exc:
        client.v1.payment_intents.create(params={"amount": 1000, "currency": "usd", "customer": customer.id,
                                                 "payment_method": pm_id, "off_session": True, "confirm": True})
    assert exc.value.code == "authentication_required"


def test_customer_default_payment_method_pays_subscriptions(client) -> None:
    customer = client.v1.customers.create(params={"email": "default@example.com"})
    si = client.v1.setup_intents.create(params={"customer": customer.id, "payment_method": "pm_card_visa",
                                                "confirm": True})
    assert client.v1.customers.retrieve(customer.id).invoice_settings.default_payment_method is None
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.customers.update(customer.id, params={"invoice_settings": {
            "default_payment_method": client.v1.payment_methods.create(params=_card_data("4242424242424242")).id}})
    updated = client.v1.customers.update(customer.id, params={"invoice_settings": {
        "default_payment_method": si.payment_method}})
    assert updated.invoice_settings.default_payment_method == si.payment_method
    product = client.v1.products.create(params={"name": "Tutoring"})
    price = client.v1.prices.create(params={"product": product.id, "unit_amount": 2000, "currency": "usd",
                                            "recurring": {"interval": "month"}})
    sub = client.v1.subscriptions.create(params={"customer": customer.id, "items": [{"price": price.id}],
                                                 "expand": ["latest_invoice.payments"]})
    assert sub.status == "active"
    assert sub.default_payment_method is None
    payment = sub.latest_invoice.payments.data[0]
    paid_with = client.v1.payment_intents.retrieve(payment.payment.payment_intent).payment_method
    assert paid_with == si.payment_method
    client.v1.payment_methods.detach(si.payment_method)
    assert client.v1.customers.retrieve(customer.id).invoice_settings.default_payment_method is None


def test_request_three_d_secure_any_challenges_a_plain_card(client, control) -> None:
    pi = client.v1.payment_intents.create(params={
        "amount": 1800, "currency": "usd", "payment_method": "pm_card_visa", "confirm": True,
        "payment_method_options": {"card": {"request_three_d_secure": "any"}}})
    assert pi.status == "requires_action"
    done = control.post(f"/payment_intents/{pi.id}/three_d_secure", {"result": "succeed"})
    assert done["status"] == "succeeded"
    charge = client.v1.charges.retrieve(done["latest_charge"])
    assert charge.payment_method_details.card.three_d_secure is not None
    with pytest.raises(stripe.InvalidRequestError) as exc:
        client.v1.setup_intents.create(params={"payment_method_options": {"card": {"moto": "true"}}})
    assert (exc.value.code, exc.value.param) == ("parameter_unknown", "payment_method_options[card][moto]")


def test_shipping_is_kept(client) -> None:
    shipping = {"name": "Ada Lovelace", "address": {"line1": "1 Analytical Way", "city": "London",
                                                    "country": "GB"}}
    pi = client.v1.payment_intents.create(params={"amount": 1000, "currency": "usd", "shipping": shipping})
    assert pi.shipping is not None
    assert (pi.shipping.name, pi.shipping.address.line1, pi.shipping.address.postal_code) == (
        "Ada Lovelace", "1 Analytical Way", None)
    with pytest.raises(stripe.InvalidRequestError) as exc:
        client.v1.payment_intents.create(params={"amount": 1000, "currency": "usd",
                                                 "shipping": {"address": {"line1": "x"}}})
    assert exc.value.param == "shipping[name]"


@pytest.mark.parametrize(("path", "data", "param"), [
    ("/v1/payment_intents", {"amount": "1000", "currency": "usd", "use_stripe_sdk": "true"}, "use_stripe_sdk"),
    ("/v1/payment_intents", {"amount": "1000", "currency": "usd", "mandate_data[customer_acceptance][type]": "online"},
     "mandate_data"),
    ("/v1/setup_intents", {"mandate_data[customer_acceptance][type]": "online"}, "mandate_data"),
    ("/v1/setup_intents", {"single_use[amount]": "100"}, "single_use"),
    ("/v1/payment_methods", {"type": "card", "card[token]": "tok_visa", "customer": "cus_x"}, "customer"),
    ("/v1/payment_methods", {"type": "card", "card[token]": "tok_visa", "billing_details[nickname]": "x"},
     "billing_details[nickname]"),
])
def test_unsupported_parameters_are_rejected(sandbox, path, data, param) -> None:
    r = requests.post(f"{sandbox.url}{path}", data=data, auth=(API_KEY, ""), timeout=5)
    assert r.status_code == 400, r.text
    assert (r.json()["error"]["code"], r.json()["error"]["param"]) == ("parameter_unknown", param)


@pytest.mark.parametrize(("path", "param"), [("/v1/payment_intents?status=succeeded", "status"),
                                             ("/v1/setup_intents?usage=off_session", "usage"),
                                             ("/v1/payment_methods?brand=visa", "brand")])
def test_unknown_list_filters_are_rejected(sandbox, path, param) -> None:
    r = requests.get(f"{sandbox.url}{path}", auth=(API_KEY, ""), timeout=5)
    assert r.status_code == 400, r.text
    assert (r.json()["error"]["code"], r.json()["error"]["param"]) == ("parameter_unknown", param)


def test_customer_profile_fields_are_kept(client) -> None:
    shipping = {"name": "Ada Lovelace", "phone": "+441234", "address": {"line1": "1 Analytical Way", "country": "GB"}}
    customer = client.v1.customers.create(params={"email": "profile@example.com", "preferred_locales": ["en-GB"],
                                                  "tax_exempt": "exempt", "shipping": shipping})
    assert (customer.preferred_locales, customer.tax_exempt) == (["en-GB"], "exempt")
    assert customer.shipping is not None
    assert (customer.shipping.name, customer.shipping.address.line1) == ("Ada Lovelace", "1 Analytical Way")
    created = client.v1.events.list(params={"type": "customer.created"}).data[0]
    assert created.data.object.tax_exempt == "exempt"
    updated = client.v1.customers.update(customer.id, params={"tax_exempt": "none", "shipping": ""})
    assert (updated.tax_exempt, updated.shipping) == ("none", None)
    for params, param in (({"tax_exempt": "sometimes"}, "tax_exempt"),
                          ({"shipping": {"name": "x", "address": {"line1": "y"}, "carrier": "UPS"}},
                           "shipping[carrier]"),
                          ({"invoice_settings": {"custom_fields": ""}}, "invoice_settings[custom_fields]"),
                          ({"default_source": "card_x"}, "default_source")):
        with pytest.raises(stripe.InvalidRequestError) as exc:
            client.v1.customers.update(customer.id, params=params)
        assert exc.value.param == param


def test_charge_update_keeps_shipping_fraud_report_and_transfer_group(client) -> None:
    pi = client.v1.payment_intents.create(params={"amount": 1000, "currency": "usd", "payment_method": "pm_card_visa",
                                                  "confirm": True})
    charge = client.v1.charges.update(pi.latest_charge, params={
        "fraud_details": {"user_report": "safe"}, "transfer_group": "order-7",
        "shipping": {"name": "Ada", "address": {"line1": "1 Way"}, "tracking_number": "T1"}})
    assert charge.fraud_details.to_dict() == {"user_report": "safe"}
    assert charge.transfer_group == "order-7"
    assert charge.shipping.tracking_number == "T1"
    assert [c.id for c in client.v1.charges.list(params={"transfer_group": "order-7"}).data] == [charge.id]
    with pytest.raises(stripe.InvalidRequestError) as exc:
        client.v1.charges.update(charge.id, params={"fraud_details": {"user_report": "maybe"}})
    assert exc.value.param == "fraud_details[user_report]"


@pytest.mark.parametrize(("path", "param"), [("/v1/charges?status=succeeded", "status"),
                                             ("/v1/customers?name=x", "name")])
def test_more_unknown_list_filters_are_rejected(sandbox, path, param) -> None:
    r = requests.get(f"{sandbox.url}{path}", auth=(API_KEY, ""), timeout=5)
    assert r.status_code == 400, r.text
    assert (r.json()["error"]["code"], r.json()["error"]["param"]) == ("parameter_unknown", param)
