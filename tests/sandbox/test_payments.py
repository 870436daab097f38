"""PaymentMethods, SetupIntents, PaymentIntents with every test card, Charges and Refunds."""

from __future__ import annotations

import pytest
import requests
import stripe


def _customer(client, **params):
    return client.v1.customers.create(params={"email": "pay@example.com", **params})


def test_payment_methods_tokens_numbers_attach_detach_list(client) -> None:
    customer = _customer(client)
    visa = client.v1.payment_methods.retrieve("pm_card_visa")
    assert visa.id.startswith("pm_")
    assert visa.card is not None
    assert (visa.card.brand, visa.card.last4) == ("visa", "4242")
    by_number = client.v1.payment_methods.create(params={
        "type": "card", "card": {"number": "5555555555554444", "exp_month": 12, "exp_year": 2034, "cvc": "123"}})
    assert by_number.card is not None
    assert (by_number.card.brand, by_number.card.last4) == ("mastercard", "4444")
    by_token = client.v1.payment_methods.create(params={"type": "card", "card": {"token": "tok_amex"}})
    assert by_token.card is not None
    assert by_token.card.brand == "amex"
    attached = client.v1.payment_methods.attach(by_number.id, params={"customer": customer.id})
    assert attached.customer == customer.id
    client.v1.payment_methods.attach(by_token.id, params={"customer": customer.id})
    listed = client.v1.payment_methods.list(params={"customer": customer.id, "type": "card"})
    assert {pm.id for pm in listed.data} == {by_number.id, by_token.id}
    assert {pm.id for pm in client.v1.customers.payment_methods.list(customer.id).data} == {by_number.id, by_token.id}
    detached = client.v1.payment_methods.detach(by_token.id)
    assert detached.customer is None
    assert [pm.id for pm in client.v1.payment_methods.list(params={"customer": customer.id}).data] == [by_number.id]
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.payment_methods.detach(by_token.id)
    types = [e.type for e in client.v1.events.list(params={"limit": 100}).data]
    assert types.count("payment_method.attached") == 2
    assert "payment_method.detached" in types


def test_incorrect_number_rejected_on_create(client) -> None:
    with pytest.raises(stripe.CardError) as exc:
        client.v1.payment_methods.create(params={
            "type": "card", "card": {"number": "4242424242424241", "exp_month": 1, "exp_year": 2040, "cvc": "314"}})
    assert exc.value.http_status == 402
    assert exc.value.code == "incorrect_number"


def test_declined_card_cannot_be_attached(client) -> None:
    customer = _customer(client)
    pm = client.v1.payment_methods.create(params={
        "type": "card", "card": {"number": "4000000000000002", "exp_month": 1, "exp_year": 2040, "cvc": "314"}})
    with pytest.raises(stripe.CardError) as exc:
        client.v1.payment_methods.attach(pm.id, params={"customer": customer.id})
    assert exc.value.http_status == 402
    assert exc.value.code == "card_declined"
    assert client.v1.payment_methods.retrieve(pm.id).customer is None


def test_0341_attaches_but_fails_to_charge(client) -> None:
    customer = _customer(client)
    pm = client.v1.payment_methods.attach("pm_card_chargeCustomerFail", params={"customer": customer.id})
    assert pm.customer == customer.id
    with pytest.raises(stripe.CardError) as exc:
        client.v1.payment_intents.create(params={"amount": 2000, "currency": "usd", "customer": customer.id,
                                                 "payment_method": pm.id, "confirm": True, "off_session": True})
    assert exc.value.code == "card_declined"


def test_setup_intent_saves_card(client) -> None:
    customer = _customer(client)
    si = client.v1.setup_intents.create(params={"customer": customer.id, "payment_method": "pm_card_visa",
                                                "confirm": True, "usage": "off_session"})
    assert si.id.startswith("seti_")
    assert si.status == "succeeded"
    assert si.client_secret.startswith(f"{si.id}_secret_")
    pm = client.v1.payment_methods.retrieve(si.payment_method)
    assert pm.customer == customer.id
    types = [e.type for e in client.v1.events.list(params={"limit": 100}).data]
    assert "setup_intent.succeeded" in types
    assert "payment_method.attached" in types


def test_setup_intent_3ds_then_off_session_payment_succeeds(client, control) -> None:
    customer = _customer(client)
    si = client.v1.setup_intents.create(params={"customer": customer.id, "confirm": True,
                                                "payment_method": "pm_card_authenticationRequiredOnSetup"})
    assert si.status == "requires_action"
    assert si.next_action is not None
    assert si.next_action.type == "redirect_to_url"
    done = control.post(f"/setup_intents/{si.id}/three_d_secure", {"result": "succeed"})
    assert done["status"] == "succeeded"
    pi = client.v1.payment_intents.create(params={"amount": 1500, "currency": "usd", "customer": customer.id,
                                                  "payment_method": done["payment_method"], "confirm": True,
                                                  "off_session": True})
    assert pi.status == "succeeded"


def test_payment_intent_lifecycle_success(client) -> None:
    customer = _customer(client)
    pi = client.v1.payment_intents.create(params={
        "amount": 4900, "currency": "usd", "customer": customer.id, "metadata": {"order": "o1"},
        "automatic_payment_methods": {"enabled": True}})
    assert pi.id.startswith("pi_")
    assert pi.status == "requires_payment_method"
    assert pi.automatic_payment_methods is not None
    assert pi.automatic_payment_methods.enabled is True
    pi = client.v1.payment_intents.update(pi.id, params={"payment_method": "pm_card_visa"})
    assert pi.status == "requires_confirmation"
    pi = client.v1.payment_intents.confirm(pi.id)
    assert pi.status == "succeeded"
    assert pi.amount_received == 4900
    charge = client.v1.charges.retrieve(pi.latest_charge)
    assert charge.status == "succeeded"
    assert charge.paid is True
    assert charge.amount_captured == 4900
    assert charge.payment_intent == pi.id
    assert charge.metadata.to_dict() == {"order": "o1"}
    types = [e.type for e in client.v1.events.list(params={"limit": 100}).data]
    assert types[:3] == ["payment_intent.succeeded", "charge.succeeded", "payment_intent.created"]


@pytest.mark.parametrize(("card", "decline_code", "message"), [
    ("4000000000000002", "generic_decline", "Your card was declined."),
    ("4000000000009995", "insufficient_funds", "Your card has insufficient funds."),
])
def test_declines(client, card, decline_code, message) -> None:
    pm = client.v1.payment_methods.create(params={
        "type": "card", "card": {"number": card, "exp_month": 4, "exp_year": 2041, "cvc": "123"}})
    with pytest.raises(stripe.CardError) as exc:
        client.v1.payment_intents.create(params={"amount": 1000, "currency": "usd", "payment_method": pm.id,
                                                 "confirm": True})
    err = exc.value
    assert err.http_status == 402
    assert err.code == "card_declined"
    assert err.error is not None
    assert err.error.decline_code == decline_code
    assert err.error.message == message
    assert err.error.payment_intent is not None
    pi = client.v1.payment_intents.retrieve(err.error.payment_intent.id)
    assert pi.status == "requires_payment_method"
    assert pi.last_payment_error is not None
    assert pi.last_payment_error.decline_code == decline_code
    charge = client.v1.charges.retrieve(pi.latest_charge)
    assert charge.status == "failed"
    assert charge.failure_code == "card_declined"
    types = [e.type for e in client.v1.events.list(params={"limit": 100}).data]
    assert "charge.failed" in types
    assert "payment_intent.payment_failed" in types
    # a new attempt with a good card succeeds on the same intent
    ok = client.v1.payment_intents.confirm(pi.id, params={"payment_method": "pm_card_visa"})
    assert ok.status == "succeeded"


def test_402_body_shape_raw(sandbox) -> None:
    r = requests.post(f"{sandbox.url}/v1/payment_intents", auth=("sk_test_x", ""), timeout=5, data={
        "amount": 1000, "currency": "usd", "payment_method": "pm_card_chargeDeclinedInsufficientFunds",
        "confirm": "true"})
    assert r.status_code == 402
    err = r.json()["error"]
    assert err["type"] == "card_error"
    assert err["code"] == "card_declined"
    assert err["decline_code"] == "insufficient_funds"
    assert err["payment_intent"]["object"] == "payment_intent"
    assert err["payment_intent"]["status"] == "requires_payment_method"


@pytest.mark.parametrize("result", ["succeed", "fail"])
def test_3ds_card_requires_action_then_control_route(client, control, result) -> None:
    pi = client.v1.payment_intents.create(params={
        "amount": 3000, "currency": "usd", "confirm": True, "return_url": "https://example.com/back",
        "payment_method_data": None, "payment_method": "pm_card_authenticationRequiredOnSetup"})
    assert pi.status == "requires_action"
    assert pi.next_action is not None
    assert pi.next_action.type == "redirect_to_url"
    assert pi.next_action.redirect_to_url is not None
    url = pi.next_action.redirect_to_url.url
    assert url is not None
    assert url.startswith(control.url)
    assert requests.get(url, timeout=5).status_code == 200
    assert "payment_intent.requires_action" in [e.type for e in client.v1.events.list(params={"limit": 100}).data]
    after = control.post(f"/payment_intents/{pi.id}/three_d_secure", {"result": result})
    if result == "succeed":
        assert after["status"] == "succeeded"
    else:
        assert after["status"] == "requires_payment_method"
        assert after["last_payment_error"]["code"] == "payment_intent_authentication_failure"
    refreshed = client.v1.payment_intents.retrieve(pi.id)
    assert refreshed.status == after["status"]
    control.post(f"/payment_intents/{pi.id}/three_d_secure", {"result": "succeed"}, expect=400)


def test_3ds_card_off_session_without_setup_fails(client) -> None:
    customer = _customer(client)
    pm = client.v1.payment_methods.attach("pm_card_authenticationRequired", params={"customer": customer.id})
    with pytest.raises(stripe.CardError) as exc:
        client.v1.payment_intents.create(params={"amount": 1000, "currency": "usd", "customer": customer.id,
                                                 "payment_method": pm.id, "confirm": True, "off_session": True})
    assert exc.value.code == "authentication_required"


def test_cancel_and_state_errors(client) -> None:
    pi = client.v1.payment_intents.create(params={"amount": 1000, "currency": "usd"})
    canceled = client.v1.payment_intents.cancel(pi.id, params={"cancellation_reason": "requested_by_customer"})
    assert canceled.status == "canceled"
    assert canceled.cancellation_reason == "requested_by_customer"
    assert "payment_intent.canceled" in [e.type for e in client.v1.events.list(params={"limit": 100}).data]
    done = client.v1.payment_intents.create(params={"amount": 1000, "currency": "usd",
                                                    "payment_method": "pm_card_visa", "confirm": True})
    with pytest.raises(stripe.InvalidRequestError) as exc:
        client.v1.payment_intents.cancel(done.id)
    assert exc.value.code == "payment_intent_unexpected_state"
    with pytest.raises(stripe.InvalidRequestError) as exc:
        client.v1.payment_intents.confirm(pi.id, params={"payment_method": "pm_card_visa"})
    assert exc.value.code == "payment_intent_unexpected_state"
    with pytest.raises(stripe.InvalidRequestError) as exc:
        client.v1.payment_intents.create(params={"amount": 10, "currency": "usd"})
    assert exc.value.code == "amount_too_small"


def test_application_fee_and_transfer_data(client, account) -> None:
    with pytest.raises(stripe.InvalidRequestError) as exc:
        client.v1.payment_intents.create(params={"amount": 1000, "currency": "usd", "application_fee_amount": 100})
    assert exc.value.param == "application_fee_amount"
    pi = client.v1.payment_intents.create(params={
        "amount": 1000, "currency": "usd", "application_fee_amount": 100,
        "transfer_data": {"destination": account.id}, "payment_method": "pm_card_visa", "confirm": True})
    assert pi.application_fee_amount == 100
    assert pi.transfer_data is not None
    assert pi.transfer_data.destination == account.id
    charge = client.v1.charges.retrieve(pi.latest_charge)
    assert charge.application_fee_amount == 100
    assert charge.transfer_data is not None
    assert charge.transfer_data.destination == account.id


def test_refunds_full_partial_and_limits(client) -> None:
    pi = client.v1.payment_intents.create(params={"amount": 5000, "currency": "usd",
                                                  "payment_method": "pm_card_visa", "confirm": True})
    partial = client.v1.refunds.create(params={"payment_intent": pi.id, "amount": 2000,
                                               "reason": "requested_by_customer"})
    assert partial.id.startswith("re_")
    assert partial.status == "succeeded"
    assert partial.amount == 2000
    charge = client.v1.charges.retrieve(pi.latest_charge)
    assert (charge.amount_refunded, charge.refunded) == (2000, False)
    assert [r.id for r in charge.refunds.data] == [partial.id]
    with pytest.raises(stripe.InvalidRequestError) as exc:
        client.v1.refunds.create(params={"charge": charge.id, "amount": 3001})
    assert exc.value.param == "amount"
    assert exc.value.code == "amount_too_large"
    rest = client.v1.refunds.create(params={"charge": charge.id})
    assert rest.amount == 3000
    charge = client.v1.charges.retrieve(charge.id)
    assert (charge.amount_refunded, charge.refunded) == (5000, True)
    with pytest.raises(stripe.InvalidRequestError) as exc:
        client.v1.refunds.create(params={"payment_intent": pi.id, "amount": 1})
    assert exc.value.code == "charge_already_refunded"
    assert {r.id for r in client.v1.refunds.list(params={"payment_intent": pi.id}).data} == {partial.id, rest.id}
    events = client.v1.events.list(params={"type": "charge.refunded"}).data
    assert len(events) == 2
    assert events[-1].data.previous_attributes["amount_refunded"] == 0
    assert len(client.v1.events.list(params={"type": "refund.created"}).data) == 2
    unpaid = client.v1.payment_intents.create(params={"amount": 5000, "currency": "usd"})
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.refunds.create(params={"payment_intent": unpaid.id})


def test_unattached_payment_method_is_single_use(client) -> None:
    pm = client.v1.payment_methods.create(params={"type": "card", "card": {"token": "tok_visa"}})
    client.v1.payment_intents.create(params={"amount": 1000, "currency": "usd", "payment_method": pm.id,
                                             "confirm": True})
    with pytest.raises(stripe.InvalidRequestError) as exc:
        client.v1.payment_intents.create(params={"amount": 1000, "currency": "usd", "payment_method": pm.id,
                                                 "confirm": True})
    assert exc.value.param == "payment_method"
