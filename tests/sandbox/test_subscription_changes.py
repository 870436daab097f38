"""Subscription changes through the SDK: items, prorations, previews, trials, cancel_at and pause_collection."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal

import pytest
import stripe

T0 = int(datetime(2031, 1, 1, 0, 0, tzinfo=UTC).timestamp())
FEB1 = int(datetime(2031, 2, 1, 0, 0, tzinfo=UTC).timestamp())
MID = T0 + 15 * 86400 + 12 * 3600  # 16 Jan 2031 12:00, 15.5 of January's 31 days used
DAY = 86400


def _stripe_proration(amount: int, start: int, end: int, at: int) -> int:
    """Stripe's documented formula: amount * (period end - change time) / (period end - period start)."""
    exact = Decimal(amount) * (end - at) / (end - start)
    return int(exact.to_integral_value(ROUND_HALF_UP))


@pytest.fixture
def prices(client):
    product = client.v1.products.create(params={"name": "Course"})
    basic, pro = (client.v1.prices.create(params={"product": product.id, "unit_amount": amount, "currency": "usd",
                                                  "recurring": {"interval": "month"}}) for amount in (1000, 2999))
    return basic, pro


@pytest.fixture
def clock(client):
    return client.v1.test_helpers.test_clocks.create(params={"frozen_time": T0})


def _customer(client, clock_id: str, card: str = "pm_card_visa", *, with_card: bool = True):
    customer = client.v1.customers.create(params={"email": "c@example.com", "test_clock": clock_id})
    if with_card:
        pm = client.v1.payment_methods.attach(card, params={"customer": customer.id})
        client.v1.customers.update(customer.id, params={"invoice_settings": {"default_payment_method": pm.id}})
    return customer


def _subscribe(client, clock, price, **extra):
    customer = _customer(client, clock.id)
    return client.v1.subscriptions.create(params={"customer": customer.id, "items": [{"price": price.id}], **extra})


def _advance(client, clock, to: int) -> None:
    client.v1.test_helpers.test_clocks.advance(clock.id, params={"frozen_time": to})


def test_mid_period_upgrade_prorates_by_the_second(client, clock, prices) -> None:
    basic, pro = prices
    sub = _subscribe(client, clock, basic)
    item = sub["items"].data[0]
    _advance(client, clock, MID)
    updated = client.v1.subscriptions.update(sub.id, params={"items": [{"id": item.id, "price": pro.id}],
                                                             "proration_date": MID})
    assert updated["items"].data[0].price.id == pro.id
    assert updated.latest_invoice == sub.latest_invoice  # create_prorations: nothing billed yet
    pending = client.v1.invoice_items.list(params={"customer": sub.customer, "pending": True}).data
    credit, debit = sorted(pending, key=lambda i: i.amount)
    assert credit.amount == -_stripe_proration(1000, T0, FEB1, MID) == -500
    assert debit.amount == _stripe_proration(2999, T0, FEB1, MID) == 1500  # 1499.5 rounds up
    assert (credit.description, debit.description) == ("Unused time on Course after 16 Jan 2031",
                                                       "Remaining time on Course after 16 Jan 2031")
    assert all(i.proration and (i.period.start, i.period.end) == (MID, FEB1) for i in pending)
    assert credit.proration_details.credited_items.invoice_line_item_details.invoice == sub.latest_invoice
    _advance(client, clock, FEB1 + 3600)
    renewal = client.v1.invoices.list(params={"subscription": sub.id, "limit": 1}).data[0]
    assert renewal.billing_reason == "subscription_cycle"
    assert [line.amount for line in renewal.lines.data] == [-500, 1500, 2999]
    assert [line.parent.type for line in renewal.lines.data] == [
        "invoice_item_details", "invoice_item_details", "subscription_item_details"]
    assert all(line.parent.invoice_item_details.proration for line in renewal.lines.data[:2])
    assert (renewal.total, renewal.amount_paid, renewal.status) == (3999, 3999, "paid")
    assert client.v1.invoice_items.list(params={"customer": sub.customer, "pending": True}).data == []


def test_always_invoice_bills_the_proration_at_once(client, clock, prices) -> None:
    basic, pro = prices
    sub = _subscribe(client, clock, basic)
    _advance(client, clock, MID)
    updated = client.v1.subscriptions.update(sub.id, params={
        "items": [{"id": sub["items"].data[0].id, "price": pro.id}], "proration_behavior": "always_invoice",
        "expand": ["latest_invoice"]})
    invoice = updated.latest_invoice
    assert isinstance(invoice, stripe.Invoice)
    assert (invoice.billing_reason, invoice.status, invoice.total, invoice.amount_paid) == (
        "subscription_update", "paid", 1000, 1000)
    assert all(line.parent.invoice_item_details.proration for line in invoice.lines.data)
    payments = client.v1.invoices.retrieve(invoice.id, params={"expand": ["payments"]}).payments
    pi = client.v1.payment_intents.retrieve(payments.data[0].payment.payment_intent)
    assert (pi.amount_received, pi.status) == (1000, "succeeded")
    downgraded = client.v1.subscriptions.update(sub.id, params={
        "items": [{"id": sub["items"].data[0].id, "price": basic.id}], "proration_behavior": "always_invoice",
        "expand": ["latest_invoice"]})
    credit_invoice = downgraded.latest_invoice
    assert (credit_invoice.total, credit_invoice.amount_due) == (-1000, 0)
    assert credit_invoice.ending_balance == -1000
    assert client.v1.customers.retrieve(sub.customer).balance == -1000  # credited, used by the next invoice
    _advance(client, clock, FEB1 + 3600)
    renewal = client.v1.invoices.list(params={"subscription": sub.id, "limit": 1}).data[0]
    assert (renewal.total, renewal.starting_balance, renewal.amount_due) == (1000, -1000, 0)


def test_no_prorations_and_quantity_changes(client, clock, prices) -> None:
    basic, pro = prices
    sub = _subscribe(client, clock, basic)
    item = sub["items"].data[0]
    _advance(client, clock, MID)
    client.v1.subscriptions.update(sub.id, params={"items": [{"id": item.id, "price": pro.id}],
                                                   "proration_behavior": "none"})
    assert client.v1.invoice_items.list(params={"customer": sub.customer}).data == []
    client.v1.subscription_items.update(item.id, params={"quantity": 3, "proration_date": MID})
    pending = client.v1.invoice_items.list(params={"customer": sub.customer, "pending": True}).data
    assert sorted(i.amount for i in pending) == [-_stripe_proration(2999, T0, FEB1, MID),
                                                 _stripe_proration(3 * 2999, T0, FEB1, MID)]
    assert any(i.description == "Remaining time on 3 × Course after 16 Jan 2031" for i in pending)  # noqa: RUF001
    updates = client.v1.events.list(params={"type": "customer.subscription.updated", "limit": 100}).data
    assert "items" in (updates[0].data.previous_attributes or {})


def test_subscription_items_create_and_delete(client, clock, prices) -> None:
    basic, pro = prices
    sub = _subscribe(client, clock, basic)
    _advance(client, clock, MID)
    added = client.v1.subscription_items.create(params={"subscription": sub.id, "price": pro.id, "quantity": 2,
                                                        "proration_date": MID, "metadata": {"seat": "x"}})
    assert (added.object, added.quantity, added.price.id, added.metadata.to_dict()) == (
        "subscription_item", 2, pro.id, {"seat": "x"})
    assert (added.current_period_start, added.current_period_end) == (T0, FEB1)
    assert [i.amount for i in client.v1.invoice_items.list(params={"customer": sub.customer}).data] == [
        _stripe_proration(2 * 2999, T0, FEB1, MID)]
    listed = client.v1.subscription_items.list(params={"subscription": sub.id}).data
    assert {i.id for i in listed} == {sub["items"].data[0].id, added.id}
    with pytest.raises(stripe.InvalidRequestError):  # one price once per subscription
        client.v1.subscription_items.create(params={"subscription": sub.id, "price": pro.id})
    deleted = client.v1.subscription_items.delete(added.id, params={"proration_behavior": "none"})
    assert deleted.deleted is True
    with pytest.raises(stripe.InvalidRequestError) as exc:
        client.v1.subscription_items.retrieve(added.id)
    assert exc.value.http_status == 404
    with pytest.raises(stripe.InvalidRequestError) as exc:  # the last item: cancel the subscription instead
        client.v1.subscription_items.delete(sub["items"].data[0].id)
    assert exc.value.param == "items"
    yearly = client.v1.prices.create(params={"product": basic.product, "unit_amount": 10000, "currency": "usd",
                                             "recurring": {"interval": "year"}})
    with pytest.raises(stripe.InvalidRequestError) as exc:
        client.v1.subscription_items.create(params={"subscription": sub.id, "price": yearly.id})
    assert "interval" in str(exc.value.user_message)


def test_create_preview_matches_the_real_change_and_changes_nothing(client, clock, prices) -> None:
    basic, pro = prices
    sub = _subscribe(client, clock, basic)
    item = sub["items"].data[0]
    _advance(client, clock, MID)
    events_before = len(client.v1.events.list(params={"limit": 100}).data)
    preview = client.v1.invoices.create_preview(params={
        "subscription": sub.id, "subscription_details": {"items": [{"id": item.id, "price": pro.id}],
                                                         "proration_date": MID}})
    assert preview.id.startswith("upcoming_in_")
    assert [(line.amount, line.period.start) for line in preview.lines.data] == [
        (-500, MID), (1500, MID), (2999, FEB1)]
    assert preview.total == 3999
    assert client.v1.invoice_items.list(params={"customer": sub.customer}).data == []
    assert client.v1.subscriptions.retrieve(sub.id)["items"].data[0].price.id == basic.id
    assert len(client.v1.events.list(params={"limit": 100}).data) == events_before
    immediate = client.v1.invoices.create_preview(params={
        "subscription": sub.id, "subscription_details": {"items": [{"id": item.id, "price": pro.id}],
                                                         "proration_date": MID,
                                                         "proration_behavior": "always_invoice"}})
    assert [line.amount for line in immediate.lines.data] == [-500, 1500]
    client.v1.subscriptions.update(sub.id, params={"items": [{"id": item.id, "price": pro.id}],
                                                   "proration_date": MID})
    upcoming = client.v1.invoices.create_preview(params={"subscription": sub.id})
    assert [line.amount for line in upcoming.lines.data] == [line.amount for line in preview.lines.data]
    with pytest.raises(stripe.InvalidRequestError) as exc:
        client.v1.invoices.create_preview(params={"customer": sub.customer})
    assert exc.value.param == "subscription"
    with pytest.raises(stripe.InvalidRequestError) as exc:
        client.v1.invoices.create_preview(params={"subscription": sub.id, "preview_mode": "recurring"})
    assert exc.value.code == "parameter_unknown"


def test_trial_then_first_charge_and_trial_will_end(client, clock, prices) -> None:
    basic, _ = prices
    sub = _subscribe(client, clock, basic, trial_period_days=14, expand=["latest_invoice"])
    trial_end = T0 + 14 * DAY
    assert (sub.status, sub.trial_start, sub.trial_end, sub.billing_cycle_anchor) == (
        "trialing", T0, trial_end, trial_end)
    assert sub["items"].data[0].current_period_end == trial_end
    first = sub.latest_invoice
    assert (first.total, first.status, first.billing_reason) == (0, "paid", "subscription_create")
    assert first.lines.data[0].description == "Trial period for Course"
    _advance(client, clock, trial_end - 4 * DAY)
    assert client.v1.events.list(params={"type": "customer.subscription.trial_will_end"}).data == []
    _advance(client, clock, trial_end - 2 * DAY)
    notices = client.v1.events.list(params={"type": "customer.subscription.trial_will_end"}).data
    assert [e.data.object.id for e in notices] == [sub.id]
    _advance(client, clock, trial_end + 3600)
    after = client.v1.subscriptions.retrieve(sub.id, params={"expand": ["latest_invoice"]})
    assert after.status == "active"
    assert (after.latest_invoice.total, after.latest_invoice.status) == (1000, "paid")
    assert after["items"].data[0].current_period_end == int(datetime(2031, 2, 15, tzinfo=UTC).timestamp())
    assert len(client.v1.events.list(params={"type": "customer.subscription.trial_will_end"}).data) == 1


def test_trial_end_now_and_missing_payment_method(client, clock, prices) -> None:
    basic, _ = prices
    sub = _subscribe(client, clock, basic, trial_end=T0 + 30 * DAY)
    _advance(client, clock, T0 + 5 * DAY)
    ended = client.v1.subscriptions.update(sub.id, params={"trial_end": "now", "expand": ["latest_invoice"]})
    assert (ended.status, ended.trial_end, ended.billing_cycle_anchor) == ("active", T0 + 5 * DAY, T0 + 5 * DAY)
    assert (ended.latest_invoice.billing_reason, ended.latest_invoice.amount_paid) == ("subscription_update", 1000)
    assert len(client.v1.events.list(params={"type": "customer.subscription.trial_will_end"}).data) == 1
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.subscriptions.update(sub.id, params={"trial_end": "now"})
    cardless = _customer(client, clock.id, with_card=False)
    unpaid = client.v1.subscriptions.create(params={
        "customer": cardless.id, "items": [{"price": basic.id}], "trial_period_days": 7,
        "trial_settings": {"end_behavior": {"missing_payment_method": "cancel"}}})
    assert unpaid.status == "trialing"
    _advance(client, clock, T0 + 13 * DAY)
    assert client.v1.subscriptions.retrieve(unpaid.id).status == "canceled"
    with pytest.raises(stripe.InvalidRequestError) as exc:
        client.v1.subscriptions.create(params={"customer": cardless.id, "items": [{"price": basic.id}],
                                               "trial_period_days": 7, "trial_from_plan": True})
    assert exc.value.code == "parameter_unknown"


def test_cancel_at_and_cancel_with_prorate(client, clock, prices) -> None:
    basic, _ = prices
    sub = _subscribe(client, clock, basic, cancel_at=MID)
    assert (sub.cancel_at, sub.cancel_at_period_end) == (MID, False)
    _advance(client, clock, MID + 60)
    assert client.v1.subscriptions.retrieve(sub.id).status == "canceled"
    other = _subscribe(client, clock, basic)  # 16 Jan 12:01 to 16 Feb 12:01, 31 days
    start = other["items"].data[0].current_period_start
    end = other["items"].data[0].current_period_end
    _advance(client, clock, start + 5 * DAY)
    canceled = client.v1.subscriptions.cancel(other.id, params={"prorate": True, "invoice_now": True,
                                                                "expand": ["latest_invoice"]})
    assert canceled.status == "canceled"
    final = canceled.latest_invoice
    assert final.total == -_stripe_proration(1000, start, end, start + 5 * DAY) == -839
    assert (final.amount_due, final.status) == (0, "paid")
    assert client.v1.customers.retrieve(other.customer).balance == -839


def test_pause_collection_behaviours_and_resume(client, clock, prices) -> None:
    basic, _ = prices
    subs = {behaviour: _subscribe(client, clock, basic) for behaviour in ("keep_as_draft", "mark_uncollectible",
                                                                          "void")}
    resume_at = FEB1 + 10 * DAY
    for behaviour, sub in subs.items():
        paused = client.v1.subscriptions.update(sub.id, params={"pause_collection": {
            "behavior": behaviour, **({"resumes_at": resume_at} if behaviour == "void" else {})}})
        assert paused.pause_collection.behavior == behaviour
    _advance(client, clock, FEB1 + 3600)
    statuses = {b: client.v1.invoices.list(params={"subscription": s.id, "limit": 1}).data[0].status
                for b, s in subs.items()}
    assert statuses == {"keep_as_draft": "draft", "mark_uncollectible": "uncollectible", "void": "void"}
    assert client.v1.subscriptions.retrieve(subs["void"].id).status == "active"
    assert client.v1.events.list(params={"type": "invoice.voided"}).data[0].data.object.subscription == \
        subs["void"].id
    _advance(client, clock, int(datetime(2031, 3, 1, 1, tzinfo=UTC).timestamp()))
    resumed = client.v1.subscriptions.retrieve(subs["void"].id, params={"expand": ["latest_invoice"]})
    assert resumed.pause_collection is None
    assert (resumed.latest_invoice.status, resumed.latest_invoice.amount_paid) == ("paid", 1000)
    unpaused = client.v1.subscriptions.update(subs["keep_as_draft"].id, params={"pause_collection": ""})
    assert unpaused.pause_collection is None
    with pytest.raises(stripe.InvalidRequestError) as exc:
        client.v1.subscriptions.update(subs["keep_as_draft"].id,
                                       params={"pause_collection": {"behavior": "sleep"}})
    assert exc.value.param == "pause_collection[behavior]"


def test_unsupported_update_parameters_fail_loudly(client, clock, prices) -> None:
    basic, _ = prices
    sub = _subscribe(client, clock, basic)
    for params in ({"billing_cycle_anchor": "now"}, {"trial_from_plan": True},
                   {"add_invoice_items": [{"price": basic.id}]},
                   {"items": [{"id": sub["items"].data[0].id, "tax_rates": ["txr_1"]}]}):
        with pytest.raises(stripe.InvalidRequestError) as exc:
            client.v1.subscriptions.update(sub.id, params=params)  # type: ignore[arg-type]
        assert exc.value.code == "parameter_unknown", params
    with pytest.raises(stripe.InvalidRequestError) as exc:
        client.v1.subscriptions.update(sub.id, params={"proration_behavior": "sometimes"})  # type: ignore[typeddict-item]
    assert exc.value.param == "proration_behavior"
    with pytest.raises(stripe.InvalidRequestError) as exc:
        client.v1.subscriptions.update(sub.id, params={"proration_date": T0 - DAY})
    assert exc.value.param == "proration_date"


def test_save_default_payment_method_on_subscription(client, clock, prices) -> None:
    basic, _ = prices
    customer = _customer(client, clock.id, with_card=False)
    sub = client.v1.subscriptions.create(params={
        "customer": customer.id, "items": [{"price": basic.id}], "payment_behavior": "default_incomplete",
        "payment_settings": {"save_default_payment_method": "on_subscription"}, "expand": ["latest_invoice.payments"]})
    assert (sub.status, sub.default_payment_method) == ("incomplete", None)
    pi_id = sub.latest_invoice.payments.data[0].payment.payment_intent
    confirmed = client.v1.payment_intents.confirm(pi_id, params={"payment_method": "pm_card_visa"})
    after = client.v1.subscriptions.retrieve(sub.id)
    assert (after.status, after.default_payment_method) == ("active", confirmed.payment_method)
    _advance(client, clock, FEB1 + 3600)  # the renewal is charged to the saved card
    assert client.v1.invoices.list(params={"subscription": sub.id, "limit": 1}).data[0].status == "paid"
    with pytest.raises(stripe.InvalidRequestError) as exc:
        client.v1.subscriptions.create(params={"customer": customer.id, "items": [{"price": basic.id}],
                                               "payment_settings": {"payment_method_types": ["card"]}})
    assert exc.value.code == "parameter_unknown"
