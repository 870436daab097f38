"""Manual capture: authorize (requires_capture), capture all or part, cancel, and the authorization's expiry."""

from __future__ import annotations

import pytest
import stripe

WEEK = 7 * 24 * 3600


def _authorize(client, amount: int = 5000, **params):
    return client.v1.payment_intents.create(params={
        "amount": amount, "currency": "usd", "capture_method": "manual", "payment_method": "pm_card_visa",
        "confirm": True, **params})


def _events(client, type_: str) -> list:
    return client.v1.events.list(params={"type": type_, "limit": 100}).data


def test_authorization_holds_the_amount(client) -> None:
    pi = _authorize(client)
    assert (pi.status, pi.capture_method) == ("requires_capture", "manual")
    assert (pi.amount_capturable, pi.amount_received) == (5000, 0)
    charge = client.v1.charges.retrieve(pi.latest_charge)
    assert (charge.status, charge.paid, charge.captured) == ("succeeded", True, False)
    assert (charge.amount, charge.amount_captured, charge.amount_refunded) == (5000, 0, 0)
    card = charge.payment_method_details.card
    assert card is not None
    assert card.amount_authorized == 5000
    assert card.capture_before == charge.created + WEEK
    assert len(_events(client, "payment_intent.amount_capturable_updated")) == 1
    assert len(_events(client, "charge.succeeded")) == 1
    assert _events(client, "payment_intent.succeeded") == []


def test_partial_capture_releases_the_rest(client) -> None:
    pi = _authorize(client, 5000)
    captured = client.v1.payment_intents.capture(pi.id, params={"amount_to_capture": 3000,
                                                                "metadata": {"lesson": "L1"}})
    assert captured.status == "succeeded"
    assert (captured.amount, captured.amount_received, captured.amount_capturable) == (5000, 3000, 0)
    assert captured.metadata.to_dict() == {"lesson": "L1"}
    charge = client.v1.charges.retrieve(pi.latest_charge)
    assert (charge.captured, charge.amount_captured, charge.amount_refunded, charge.refunded) == (
        True, 3000, 2000, False)
    assert [r.amount for r in charge.refunds.data] == [2000]  # the released remainder, as a refund
    captured_event = _events(client, "charge.captured")
    assert len(captured_event) == 1
    assert captured_event[0].data.object.amount_captured == 3000
    assert captured_event[0].data.previous_attributes["captured"] is False
    assert len(_events(client, "payment_intent.succeeded")) == 1
    # only what was captured can be refunded
    with pytest.raises(stripe.InvalidRequestError) as exc:
        client.v1.refunds.create(params={"payment_intent": pi.id, "amount": 3001})
    assert exc.value.code == "amount_too_large"
    refund = client.v1.refunds.create(params={"payment_intent": pi.id})
    assert refund.amount == 3000
    charge = client.v1.charges.retrieve(charge.id)
    assert (charge.amount_refunded, charge.refunded) == (5000, True)


def test_full_capture_by_default(client) -> None:
    pi = _authorize(client, 2400)
    captured = client.v1.payment_intents.capture(pi.id)
    assert (captured.status, captured.amount_received) == ("succeeded", 2400)
    charge = client.v1.charges.retrieve(pi.latest_charge)
    assert (charge.amount_captured, charge.amount_refunded) == (2400, 0)
    assert charge.refunds.data == []


def test_capture_errors(client) -> None:
    pi = _authorize(client, 1000)
    with pytest.raises(stripe.InvalidRequestError) as too_much:
        client.v1.payment_intents.capture(pi.id, params={"amount_to_capture": 1001})
    assert (too_much.value.code, too_much.value.param) == ("amount_too_large", "amount_to_capture")
    with pytest.raises(stripe.InvalidRequestError) as unknown:
        client.v1.payment_intents.capture(pi.id, params={"final_capture": False})
    assert (unknown.value.code, unknown.value.param) == ("parameter_unknown", "final_capture")
    with pytest.raises(stripe.InvalidRequestError) as uncaptured_refund:
        client.v1.refunds.create(params={"charge": pi.latest_charge})
    assert uncaptured_refund.value.code == "charge_not_refundable"
    client.v1.payment_intents.capture(pi.id)
    with pytest.raises(stripe.InvalidRequestError) as twice:
        client.v1.payment_intents.capture(pi.id)
    assert twice.value.code == "payment_intent_unexpected_state"
    automatic = client.v1.payment_intents.create(params={"amount": 1000, "currency": "usd",
                                                         "payment_method": "pm_card_visa", "confirm": True})
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.payment_intents.capture(automatic.id)
    with pytest.raises(stripe.InvalidRequestError) as bad_method:
        client.v1.payment_intents.create(params={"amount": 1000, "currency": "usd", "capture_method": "later"})
    assert bad_method.value.param == "capture_method"


def test_cancel_releases_the_authorization(client) -> None:
    pi = _authorize(client, 4200)
    canceled = client.v1.payment_intents.cancel(pi.id, params={"cancellation_reason": "requested_by_customer"})
    assert (canceled.status, canceled.amount_capturable, canceled.amount_received) == ("canceled", 0, 0)
    charge = client.v1.charges.retrieve(pi.latest_charge)
    assert (charge.captured, charge.amount_refunded, charge.refunded) == (False, 4200, True)
    assert len(_events(client, "charge.refunded")) == 1
    assert len(_events(client, "payment_intent.canceled")) == 1
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.payment_intents.capture(pi.id)


def test_authorization_expires_after_seven_days(client, control) -> None:
    pi = _authorize(client, 3300)
    control.post("/config", {"time_offset": WEEK - 3600})
    assert client.v1.payment_intents.retrieve(pi.id).status == "requires_capture"
    control.post("/config", {"time_offset": WEEK + 60})
    expired = client.v1.payment_intents.retrieve(pi.id)
    assert (expired.status, expired.cancellation_reason, expired.amount_capturable) == ("canceled", "automatic", 0)
    charge = client.v1.charges.retrieve(pi.latest_charge)
    assert (charge.captured, charge.refunded, charge.amount_refunded) == (False, True, 3300)
    assert [r.reason for r in charge.refunds.data] == ["expired_uncaptured_charge"]
    assert len(_events(client, "charge.expired")) == 1
    assert len(_events(client, "payment_intent.canceled")) == 1
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.payment_intents.capture(pi.id)


def test_authorization_expires_on_the_customers_test_clock(client) -> None:
    start = 1_900_000_000
    clock = client.v1.test_helpers.test_clocks.create(params={"frozen_time": start})
    customer = client.v1.customers.create(params={"email": "clock@example.com", "test_clock": clock.id})
    pm = client.v1.payment_methods.attach("pm_card_visa", params={"customer": customer.id})
    pi = _authorize(client, 2000, customer=customer.id, payment_method=pm.id)
    charge = client.v1.charges.retrieve(pi.latest_charge)
    assert charge.payment_method_details.card.capture_before == start + WEEK
    client.v1.test_helpers.test_clocks.advance(clock.id, params={"frozen_time": start + WEEK - 1})
    assert client.v1.payment_intents.retrieve(pi.id).status == "requires_capture"
    client.v1.test_helpers.test_clocks.advance(clock.id, params={"frozen_time": start + WEEK})
    assert client.v1.payment_intents.retrieve(pi.id).status == "canceled"
    assert len(_events(client, "charge.expired")) == 1


def test_three_d_secure_then_authorization(client, control) -> None:
    pi = _authorize(client, 1500, payment_method="pm_card_authenticationRequired",
                    return_url="https://app.example/back")
    assert pi.status == "requires_action"
    done = control.post(f"/payment_intents/{pi.id}/three_d_secure", {"result": "succeed"})
    assert (done["status"], done["amount_capturable"]) == ("requires_capture", 1500)


def test_capture_method_chosen_at_confirmation(client) -> None:
    pi = client.v1.payment_intents.create(params={"amount": 1200, "currency": "usd"})
    confirmed = client.v1.payment_intents.confirm(pi.id, params={"payment_method": "pm_card_visa",
                                                                 "capture_method": "manual"})
    assert (confirmed.status, confirmed.amount_capturable) == ("requires_capture", 1200)


def test_checkout_with_manual_capture(client, control) -> None:
    product = client.v1.products.create(params={"name": "Tutoring hour"})
    price = client.v1.prices.create(params={"product": product.id, "unit_amount": 6000, "currency": "usd"})
    cs = client.v1.checkout.sessions.create(params={
        "mode": "payment", "line_items": [{"price": price.id, "quantity": 1}],
        "success_url": "https://app.example/ok", "payment_intent_data": {"capture_method": "manual"}})
    assert control.complete(cs.id)["outcome"] == "complete"
    done = client.v1.checkout.sessions.retrieve(cs.id, params={"expand": ["payment_intent"]})
    assert (done.status, done.payment_status) == ("complete", "unpaid")
    assert (done.payment_intent.status, done.payment_intent.amount_capturable) == ("requires_capture", 6000)
    assert len(_events(client, "checkout.session.completed")) == 1
    captured = client.v1.payment_intents.capture(done.payment_intent.id, params={"amount_to_capture": 4500})
    assert captured.amount_received == 4500
    assert _events(client, "checkout.session.async_payment_succeeded") == []
