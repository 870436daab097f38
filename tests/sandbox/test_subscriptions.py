"""Subscriptions, invoices and renewals driven by test clocks."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import stripe

T0 = int(datetime(2031, 1, 31, 12, 0, tzinfo=UTC).timestamp())


@pytest.fixture
def monthly(client):
    product = client.v1.products.create(params={"name": "Mentoring"})
    return client.v1.prices.create(params={"product": product.id, "unit_amount": 2000, "currency": "usd",
                                           "recurring": {"interval": "month"}})


def _subscriber(client, clock_id: str, card: str = "pm_card_visa"):
    customer = client.v1.customers.create(params={"email": "sub@example.com", "test_clock": clock_id})
    pm = client.v1.payment_methods.attach(card, params={"customer": customer.id})
    client.v1.customers.update(customer.id, params={"invoice_settings": {"default_payment_method": pm.id}})
    return customer


def _ts(y: int, m: int, d: int) -> int:
    return int(datetime(y, m, d, 12, 0, tzinfo=UTC).timestamp())


def test_test_clock_crud(client) -> None:
    clock = client.v1.test_helpers.test_clocks.create(params={"frozen_time": T0, "name": "c1"})
    assert clock.id.startswith("clock_")
    assert (clock.status, clock.frozen_time, clock.name) == ("ready", T0, "c1")
    assert [c.id for c in client.v1.test_helpers.test_clocks.list().data] == [clock.id]
    advancing = client.v1.test_helpers.test_clocks.advance(clock.id, params={"frozen_time": T0 + 3600})
    assert advancing.status == "advancing"  # like Stripe; the sandbox has finished by the time it answers
    ready = client.v1.test_helpers.test_clocks.retrieve(clock.id)
    assert (ready.status, ready.frozen_time) == ("ready", T0 + 3600)
    with pytest.raises(stripe.InvalidRequestError) as exc:
        client.v1.test_helpers.test_clocks.advance(clock.id, params={"frozen_time": T0})
    assert exc.value.param == "frozen_time"
    deleted = client.v1.test_helpers.test_clocks.delete(clock.id)
    assert deleted.deleted is True
    with pytest.raises(stripe.InvalidRequestError) as exc:
        client.v1.test_helpers.test_clocks.retrieve(clock.id)
    assert exc.value.http_status == 404


def test_api_subscription_renewals(client, monthly) -> None:
    clock = client.v1.test_helpers.test_clocks.create(params={"frozen_time": T0})
    customer = _subscriber(client, clock.id)
    sub = client.v1.subscriptions.create(params={"customer": customer.id, "items": [{"price": monthly.id}],
                                                 "metadata": {"enrollment": "e1"}, "expand": ["latest_invoice"]})
    assert sub.status == "active"
    assert sub.test_clock == clock.id
    item = sub["items"].data[0]
    assert (item.current_period_start, item.current_period_end) == (T0, _ts(2031, 2, 28))  # Jan 31 -> Feb 28
    assert item.price.id == monthly.id
    first = sub.latest_invoice
    assert isinstance(first, stripe.Invoice)
    assert (first.status, first.billing_reason, first.amount_paid) == ("paid", "subscription_create", 2000)
    client.v1.test_helpers.test_clocks.advance(clock.id, params={"frozen_time": _ts(2031, 4, 1)})
    invoices = client.v1.invoices.list(params={"subscription": sub.id}).data
    assert [i.billing_reason for i in invoices] == ["subscription_cycle", "subscription_cycle", "subscription_create"]
    assert all(i.status == "paid" for i in invoices)
    assert invoices[0].lines.data[0].period.start == _ts(2031, 3, 31)
    assert invoices[0].parent.subscription_details.subscription == sub.id
    assert invoices[0].parent.subscription_details.metadata.to_dict() == {"enrollment": "e1"}
    renewed = client.v1.subscriptions.retrieve(sub.id)
    assert renewed.status == "active"
    assert renewed["items"].data[0].current_period_start == _ts(2031, 3, 31)
    assert renewed.latest_invoice == invoices[0].id
    paid = client.v1.events.list(params={"type": "invoice.paid", "limit": 100}).data
    assert len(paid) == 3
    updated = client.v1.events.list(params={"type": "customer.subscription.updated", "limit": 100}).data
    assert any("items" in (e.data.previous_attributes or {}) for e in updated)
    payments = client.v1.invoices.retrieve(invoices[0].id, params={"expand": ["payments"]}).payments
    assert payments is not None
    pi = client.v1.payment_intents.retrieve(payments.data[0].payment.payment_intent)
    assert (pi.status, pi.customer, pi.amount) == ("succeeded", customer.id, 2000)


def test_failed_renewal_goes_past_due_and_recovers(client, monthly) -> None:
    clock = client.v1.test_helpers.test_clocks.create(params={"frozen_time": T0})
    customer = _subscriber(client, clock.id)
    sub = client.v1.subscriptions.create(params={"customer": customer.id, "items": [{"price": monthly.id}]})
    assert sub.status == "active"
    failing = client.v1.payment_methods.attach("pm_card_chargeCustomerFail", params={"customer": customer.id})
    client.v1.customers.update(customer.id, params={"invoice_settings": {"default_payment_method": failing.id}})
    client.v1.test_helpers.test_clocks.advance(clock.id, params={"frozen_time": _ts(2031, 3, 1)})
    assert client.v1.subscriptions.retrieve(sub.id).status == "past_due"
    failed = client.v1.events.list(params={"type": "invoice.payment_failed"}).data
    assert len(failed) == 1
    invoice = client.v1.invoices.retrieve(failed[0].data.object["id"])
    assert (invoice.status, invoice.attempt_count, invoice.amount_remaining) == ("open", 1, 2000)
    assert client.v1.customers.retrieve(customer.id).delinquent is True
    updates = client.v1.events.list(params={"type": "customer.subscription.updated"}).data
    assert updates[0].data.object["status"] == "past_due"
    assert updates[0].data.previous_attributes["status"] == "active"
    # paying the open invoice with a good card reactivates the subscription
    good = client.v1.payment_methods.attach("pm_card_visa", params={"customer": customer.id})
    assert client.v1.invoices.pay(invoice.id, params={"payment_method": good.id}).status == "paid"
    assert client.v1.subscriptions.retrieve(sub.id).status == "active"


def test_cancel_at_period_end_and_cancel_now(client, monthly) -> None:
    clock = client.v1.test_helpers.test_clocks.create(params={"frozen_time": T0})
    customer = _subscriber(client, clock.id)
    sub = client.v1.subscriptions.create(params={"customer": customer.id, "items": [{"price": monthly.id}]})
    flagged = client.v1.subscriptions.update(sub.id, params={"cancel_at_period_end": True})
    assert flagged.cancel_at_period_end is True
    assert flagged.cancel_at == _ts(2031, 2, 28)
    assert flagged.status == "active"
    client.v1.test_helpers.test_clocks.advance(clock.id, params={"frozen_time": _ts(2031, 3, 5)})
    ended = client.v1.subscriptions.retrieve(sub.id)
    assert (ended.status, ended.ended_at) == ("canceled", _ts(2031, 2, 28))
    assert len(client.v1.invoices.list(params={"subscription": sub.id}).data) == 1  # no renewal invoice
    assert len(client.v1.events.list(params={"type": "customer.subscription.deleted"}).data) == 1
    other = client.v1.subscriptions.create(params={"customer": customer.id, "items": [{"price": monthly.id}]})
    canceled = client.v1.subscriptions.cancel(other.id)
    assert canceled.status == "canceled"
    assert canceled.canceled_at == _ts(2031, 3, 5)
    assert client.v1.subscriptions.list(params={"customer": customer.id}).data == []
    assert {s.id for s in client.v1.subscriptions.list(params={"status": "canceled"}).data} == {sub.id, other.id}
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.subscriptions.cancel(other.id)


def test_default_test_clock_config_and_incomplete(client, monthly, control) -> None:
    clock = client.v1.test_helpers.test_clocks.create(params={"frozen_time": T0})
    control.post("/config", {"default_test_clock": clock.id})
    customer = client.v1.customers.create(params={"email": "auto@example.com"})
    assert customer.test_clock == clock.id
    assert customer.created == T0
    control.post("/config", {"default_test_clock": "clock_missing"}, expect=404)
    # a declined first payment leaves the subscription incomplete (allow_incomplete) ...
    pm = client.v1.payment_methods.attach("pm_card_chargeCustomerFail", params={"customer": customer.id})
    sub = client.v1.subscriptions.create(params={"customer": customer.id, "items": [{"price": monthly.id}],
                                                 "default_payment_method": pm.id})
    assert sub.status == "incomplete"
    # ... and it expires after 23 hours
    client.v1.test_helpers.test_clocks.advance(clock.id, params={"frozen_time": T0 + 24 * 3600})
    assert client.v1.subscriptions.retrieve(sub.id).status == "incomplete_expired"
    with pytest.raises(stripe.CardError):
        client.v1.subscriptions.create(params={"customer": customer.id, "items": [{"price": monthly.id}],
                                               "default_payment_method": pm.id,
                                               "payment_behavior": "error_if_incomplete"})


def test_subscription_items_and_errors(client, monthly) -> None:
    customer = client.v1.customers.create(params={"email": "x@example.com"})
    with pytest.raises(stripe.InvalidRequestError):  # no payment method
        client.v1.subscriptions.create(params={"customer": customer.id, "items": [{"price": monthly.id}]})
    client.v1.payment_methods.attach("pm_card_visa", params={"customer": customer.id})
    pm = client.v1.payment_methods.list(params={"customer": customer.id}).data[0]
    sub = client.v1.subscriptions.create(params={"customer": customer.id, "default_payment_method": pm.id,
                                                 "items": [{"price": monthly.id, "quantity": 3}]})
    assert sub.default_payment_method == pm.id
    items = client.v1.subscription_items.list(params={"subscription": sub.id}).data
    assert [(i.object, i.quantity, i.subscription) for i in items] == [("subscription_item", 3, sub.id)]
    assert client.v1.subscription_items.retrieve(items[0].id).price.id == monthly.id
    lines = client.v1.invoices.line_items.list(sub.latest_invoice)
    assert lines.data[0].amount == 6000
    assert lines.data[0].parent.subscription_item_details.subscription_item == items[0].id
