"""Coupons, promotion codes and discounts on subscriptions, invoices and Checkout Sessions (through the SDK)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import stripe

T0 = int(datetime(2031, 3, 1, 12, 0, tzinfo=UTC).timestamp())


def _ts(y: int, m: int, d: int) -> int:
    return int(datetime(y, m, d, 12, 0, tzinfo=UTC).timestamp())


@pytest.fixture
def product(client):
    return client.v1.products.create(params={"name": "Mentoring"})


@pytest.fixture
def monthly(client, product):
    return client.v1.prices.create(params={"product": product.id, "unit_amount": 1999, "currency": "usd",
                                           "recurring": {"interval": "month"}})


@pytest.fixture
def clock(client):
    return client.v1.test_helpers.test_clocks.create(params={"frozen_time": T0})


def _subscriber(client, clock_id: str | None = None):
    params = {"email": "sub@example.com", **({"test_clock": clock_id} if clock_id else {})}
    customer = client.v1.customers.create(params=params)
    pm = client.v1.payment_methods.attach("pm_card_visa", params={"customer": customer.id})
    client.v1.customers.update(customer.id, params={"invoice_settings": {"default_payment_method": pm.id}})
    return customer


def _charged(client, invoice) -> int:
    payments = client.v1.invoices.retrieve(invoice.id, params={"expand": ["payments"]}).payments
    pi = client.v1.payment_intents.retrieve(payments.data[0].payment.payment_intent)
    return int(pi.amount_received)


# ------------------------------------------------------------------------------------ coupons
def test_coupon_crud_and_validation(client, product) -> None:
    percent = client.v1.coupons.create(params={"percent_off": 25.5, "duration": "repeating",
                                               "duration_in_months": 3, "name": "Spring", "max_redemptions": 5,
                                               "applies_to": {"products": [product.id]}})
    assert (percent.object, percent.percent_off, percent.amount_off) == ("coupon", 25.5, None)
    assert (percent.duration, percent.duration_in_months, percent.valid, percent.times_redeemed) == (
        "repeating", 3, True, 0)
    assert "applies_to" not in percent  # includable, as on Stripe
    expanded = client.v1.coupons.retrieve(percent.id, params={"expand": ["applies_to"]})
    assert expanded.applies_to.products == [product.id]
    fixed = client.v1.coupons.create(params={"id": "TENOFF", "amount_off": 1000, "currency": "usd",
                                             "duration": "forever"})
    assert (fixed.id, fixed.amount_off, fixed.currency, fixed.percent_off) == ("TENOFF", 1000, "usd", None)
    renamed = client.v1.coupons.update("TENOFF", params={"name": "Ten off", "metadata": {"k": "v"}})
    assert (renamed.name, renamed.metadata.to_dict()) == ("Ten off", {"k": "v"})
    assert {c.id for c in client.v1.coupons.list().data} == {percent.id, "TENOFF"}
    deleted = client.v1.coupons.delete("TENOFF")
    assert deleted.deleted is True
    with pytest.raises(stripe.InvalidRequestError) as exc:
        client.v1.coupons.retrieve("TENOFF")
    assert exc.value.http_status == 404
    cases = [
        ({}, "percent_off"),
        ({"percent_off": 10, "amount_off": 100, "currency": "usd"}, "amount_off"),
        ({"amount_off": 100}, "currency"),
        ({"percent_off": 120}, "percent_off"),
        ({"percent_off": 10, "duration": "repeating"}, "duration_in_months"),
        ({"percent_off": 10, "duration_in_months": 2}, "duration_in_months"),
        ({"percent_off": 10, "redeem_by": 1}, "redeem_by"),
        ({"id": percent.id, "percent_off": 10}, "id"),
    ]
    for params, param in cases:
        with pytest.raises(stripe.InvalidRequestError) as exc:
            client.v1.coupons.create(params=params)
        assert exc.value.param == param, params
    with pytest.raises(stripe.InvalidRequestError) as exc:  # amounts are immutable
        client.v1.coupons.update(percent.id, params={"percent_off": 50})  # type: ignore[typeddict-unknown-key]
    assert (exc.value.code, exc.value.param) == ("parameter_unknown", "percent_off")
    with pytest.raises(stripe.InvalidRequestError) as exc:
        client.v1.coupons.create(params={"percent_off": 10, "currency_options": {"eur": {"amount_off": 1}}})
    assert exc.value.code == "parameter_unknown"


def test_coupon_max_redemptions_makes_it_invalid(client, monthly) -> None:
    coupon = client.v1.coupons.create(params={"percent_off": 10, "max_redemptions": 1})
    client.v1.subscriptions.create(params={"customer": _subscriber(client).id, "items": [{"price": monthly.id}],
                                           "discounts": [{"coupon": coupon.id}]})
    used = client.v1.coupons.retrieve(coupon.id)
    assert (used.times_redeemed, used.valid) == (1, False)
    with pytest.raises(stripe.InvalidRequestError) as exc:
        client.v1.subscriptions.create(params={"customer": _subscriber(client).id, "items": [{"price": monthly.id}],
                                               "discounts": [{"coupon": coupon.id}]})
    assert exc.value.param == "discounts[0][coupon]"


# ---------------------------------------------------------------------------- promotion codes
def test_promotion_code_crud_and_restrictions(client, monthly) -> None:
    coupon = client.v1.coupons.create(params={"percent_off": 20, "duration": "forever"})
    promo = client.v1.promotion_codes.create(params={
        "promotion": {"type": "coupon", "coupon": coupon.id}, "code": "SPRING20", "max_redemptions": 2,
        "restrictions": {"minimum_amount": 2500, "minimum_amount_currency": "usd"}})
    assert (promo.object, promo.code, promo.active, promo.promotion.coupon) == (
        "promotion_code", "SPRING20", True, coupon.id)
    assert (promo.restrictions.minimum_amount, promo.restrictions.minimum_amount_currency) == (2500, "usd")
    assert promo.restrictions.first_time_transaction is False
    generated = client.v1.promotion_codes.create(params={"promotion": {"type": "coupon", "coupon": coupon.id}})
    assert len(generated.code) == 8
    assert [p.id for p in client.v1.promotion_codes.list(params={"code": "spring20"}).data] == [promo.id]
    assert [p.id for p in client.v1.promotion_codes.list(params={"coupon": coupon.id}).data] == [
        generated.id, promo.id]
    with pytest.raises(stripe.InvalidRequestError) as exc:  # active codes are unique
        client.v1.promotion_codes.create(params={"promotion": {"type": "coupon", "coupon": coupon.id},
                                                 "code": "SPRING20"})
    assert exc.value.param == "code"
    customer = _subscriber(client)
    with pytest.raises(stripe.InvalidRequestError) as exc:  # 19.99 < the 25.00 minimum
        client.v1.subscriptions.create(params={"customer": customer.id, "items": [{"price": monthly.id}],
                                               "discounts": [{"promotion_code": promo.id}]})
    assert exc.value.param == "discounts[0][promotion_code]"
    assert "minimum" in str(exc.value.user_message)
    sub = client.v1.subscriptions.create(params={"customer": customer.id,
                                                 "items": [{"price": monthly.id, "quantity": 2}],
                                                 "discounts": [{"promotion_code": promo.id}]})
    assert client.v1.promotion_codes.retrieve(promo.id).times_redeemed == 1
    assert client.v1.coupons.retrieve(coupon.id).times_redeemed == 1
    paused = client.v1.promotion_codes.update(promo.id, params={"active": False})
    assert paused.active is False
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.subscriptions.update(sub.id, params={"discounts": [{"promotion_code": promo.id}]})
    with pytest.raises(stripe.InvalidRequestError) as exc:
        client.v1.promotion_codes.update(promo.id, params={"code": "X"})  # type: ignore[typeddict-unknown-key]
    assert exc.value.code == "parameter_unknown"


def test_promotion_code_first_time_customer_and_expiry(client, monthly, control) -> None:
    coupon = client.v1.coupons.create(params={"amount_off": 500, "currency": "usd"})
    first = client.v1.promotion_codes.create(params={"promotion": {"type": "coupon", "coupon": coupon.id},
                                                     "restrictions": {"first_time_transaction": True}})
    returning = _subscriber(client)
    client.v1.payment_intents.create(params={"amount": 1000, "currency": "usd", "customer": returning.id,
                                             "payment_method": "pm_card_visa", "confirm": True})
    with pytest.raises(stripe.InvalidRequestError) as exc:
        client.v1.subscriptions.create(params={"customer": returning.id, "items": [{"price": monthly.id}],
                                               "discounts": [{"promotion_code": first.id}]})
    assert "prior transactions" in str(exc.value.user_message)
    newcomer = _subscriber(client)
    sub = client.v1.subscriptions.create(params={"customer": newcomer.id, "items": [{"price": monthly.id}],
                                                 "discounts": [{"promotion_code": first.id}],
                                                 "expand": ["latest_invoice"]})
    assert sub.latest_invoice.total == 1499
    only_ada = client.v1.promotion_codes.create(params={"promotion": {"type": "coupon", "coupon": coupon.id},
                                                        "customer": newcomer.id})
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.subscriptions.create(params={"customer": returning.id, "items": [{"price": monthly.id}],
                                               "discounts": [{"promotion_code": only_ada.id}]})
    soon = client.v1.promotion_codes.create(params={"promotion": {"type": "coupon", "coupon": coupon.id},
                                                    "expires_at": int(datetime.now(UTC).timestamp()) + 3600})
    control.post("/config", {"time_offset": 7200})
    with pytest.raises(stripe.InvalidRequestError) as exc:
        client.v1.subscriptions.create(params={"customer": returning.id, "items": [{"price": monthly.id}],
                                               "discounts": [{"promotion_code": soon.id}]})
    assert "expired" in str(exc.value.user_message)


# ------------------------------------------------------------------------ subscription invoices
def test_twenty_percent_forever_on_every_invoice(client, clock, monthly) -> None:
    """20 % of 19.99 is 3.998 -> 4.00 off (minor units, halves away from zero): 15.99 on every invoice."""
    coupon = client.v1.coupons.create(params={"percent_off": 20, "duration": "forever"})
    customer = _subscriber(client, clock.id)
    sub = client.v1.subscriptions.create(params={"customer": customer.id, "items": [{"price": monthly.id}],
                                                 "discounts": [{"coupon": coupon.id}],
                                                 "expand": ["discounts", "latest_invoice"]})
    discount = sub.discounts[0]
    assert isinstance(discount, stripe.Discount)
    assert (discount.source.coupon, discount.subscription, discount.customer, discount.end) == (
        coupon.id, sub.id, customer.id, None)
    client.v1.test_helpers.test_clocks.advance(clock.id, params={"frozen_time": _ts(2031, 6, 2)})
    invoices = client.v1.invoices.list(params={"subscription": sub.id}).data
    assert len(invoices) == 4  # Mar (creation), Apr, May, Jun
    for invoice in invoices:
        assert (invoice.subtotal, invoice.total, invoice.amount_due, invoice.amount_paid) == (1999, 1599, 1599, 1599)
        assert invoice.discounts == [discount.id]
        assert [(d.amount, d.discount) for d in invoice.total_discount_amounts] == [(400, discount.id)]
        line = invoice.lines.data[0]
        assert (line.amount, [(d.amount, d.discount) for d in line.discount_amounts]) == (1999, [(400, discount.id)])
        assert _charged(client, invoice) == 1599
    created = client.v1.events.list(params={"type": "customer.discount.created"}).data
    assert [e.data.object.id for e in created] == [discount.id]


def test_repeating_coupon_stops_after_its_months_and_once_after_one(client, clock, monthly) -> None:
    repeating = client.v1.coupons.create(params={"percent_off": 20, "duration": "repeating",
                                                 "duration_in_months": 2})
    once = client.v1.coupons.create(params={"amount_off": 500, "currency": "usd", "duration": "once"})
    customer = _subscriber(client, clock.id)
    sub = client.v1.subscriptions.create(params={"customer": customer.id, "items": [{"price": monthly.id}],
                                                 "discounts": [{"coupon": repeating.id}, {"coupon": once.id}]})
    client.v1.test_helpers.test_clocks.advance(clock.id, params={"frozen_time": _ts(2031, 6, 2)})
    invoices = list(reversed(client.v1.invoices.list(params={"subscription": sub.id}).data))
    # March: 20 % (400) then 5.00 off the remaining 15.99; April: 20 % only; from May (2 months on): full price
    assert [i.total for i in invoices] == [1099, 1599, 1999, 1999]
    assert [sum(d.amount for d in i.total_discount_amounts) for i in invoices] == [900, 400, 0, 0]
    assert client.v1.subscriptions.retrieve(sub.id).discounts == []
    ended = client.v1.events.list(params={"type": "customer.discount.deleted"}).data
    assert len(ended) == 2


def test_subscription_discount_update_and_removal(client, monthly, product) -> None:
    customer = _subscriber(client)
    other = client.v1.products.create(params={"name": "Other"})
    only_other = client.v1.coupons.create(params={"percent_off": 50, "duration": "forever",
                                                  "applies_to": {"products": [other.id]}})
    sub = client.v1.subscriptions.create(params={"customer": customer.id, "items": [{"price": monthly.id}],
                                                 "discounts": [{"coupon": only_other.id}],
                                                 "expand": ["latest_invoice"]})
    assert sub.latest_invoice.total == 1999  # applies_to other product: nothing discounted
    kept = sub.discounts[0]
    updated = client.v1.subscriptions.update(sub.id, params={"discounts": [{"discount": kept}]})
    assert updated.discounts == [kept]
    cleared = client.v1.subscriptions.update(sub.id, params={"discounts": ""})
    assert cleared.discounts == []
    with pytest.raises(stripe.InvalidRequestError) as exc:
        client.v1.subscriptions.update(sub.id, params={"discounts": [{"discount": "di_unknown"}]})
    assert exc.value.param == "discounts[0][discount]"
    with pytest.raises(stripe.InvalidRequestError) as exc:
        client.v1.subscriptions.create(params={"customer": customer.id, "items": [{
            "price": monthly.id, "discounts": [{"coupon": only_other.id}]}]})
    assert exc.value.code == "parameter_unknown"


# ---------------------------------------------------------------------------------- Checkout
def _session(client, price, mode: str = "payment", **extra):
    return client.v1.checkout.sessions.create(params={
        "mode": mode, "success_url": "https://example.com/ok", "line_items": [{"price": price.id, "quantity": 2}],
        **extra})


def test_checkout_discounts_amounts_and_redemption(client, control, product) -> None:
    once = client.v1.prices.create(params={"product": product.id, "unit_amount": 2500, "currency": "usd"})
    coupon = client.v1.coupons.create(params={"percent_off": 15})
    promo = client.v1.promotion_codes.create(params={"promotion": {"type": "coupon", "coupon": coupon.id},
                                                     "code": "FIFTEEN"})
    session = _session(client, once, discounts=[{"promotion_code": promo.id}])
    assert (session.amount_subtotal, session.amount_total, session.total_details.amount_discount) == (
        5000, 4250, 750)
    assert session.discounts[0].coupon == coupon.id
    assert session.discounts[0].promotion_code == promo.id
    item = client.v1.checkout.sessions.line_items.list(session.id).data[0]
    assert (item.amount_subtotal, item.amount_discount, item.amount_total) == (5000, 750, 4250)
    assert item.discounts[0].amount == 750
    assert item.discounts[0].discount.checkout_session == session.id
    assert client.v1.promotion_codes.retrieve(promo.id).times_redeemed == 0  # counted when completed
    done = control.complete(session.id)
    assert done["outcome"] == "complete"
    pi = client.v1.payment_intents.retrieve(done["payment_intent"])
    assert pi.amount == 4250
    assert client.v1.promotion_codes.retrieve(promo.id).times_redeemed == 1
    assert client.v1.coupons.retrieve(coupon.id).times_redeemed == 1
    with pytest.raises(stripe.InvalidRequestError) as exc:
        _session(client, once, discounts=[{"coupon": coupon.id}], allow_promotion_codes=True)
    assert exc.value.param == "allow_promotion_codes"
    with pytest.raises(stripe.InvalidRequestError):
        _session(client, once, discounts=[{"coupon": coupon.id}, {"promotion_code": promo.id}])


def test_allow_promotion_codes_applies_typed_code(client, control, monthly) -> None:
    coupon = client.v1.coupons.create(params={"percent_off": 20, "duration": "forever"})
    client.v1.promotion_codes.create(params={"promotion": {"type": "coupon", "coupon": coupon.id}, "code": "JOIN20"})
    session = _session(client, monthly, mode="subscription", allow_promotion_codes=True)
    assert session.allow_promotion_codes is True
    assert session.amount_total == 3998
    bad = control.post(f"/checkout/sessions/{session.id}/promotion_code", {"code": "NOPE"}, expect=400)
    assert bad["error"]["message"] == "This code is invalid."
    applied = control.post(f"/checkout/sessions/{session.id}/promotion_code", {"code": "join20"})
    assert (applied["amount_total"], applied["total_details"]["amount_discount"]) == (3198, 800)
    done = control.complete(session.id)
    assert done["outcome"] == "complete"
    sub = client.v1.subscriptions.retrieve(done["checkout_session"]["subscription"],
                                           params={"expand": ["latest_invoice", "discounts"]})
    assert sub.latest_invoice.total == 3198
    assert sub.discounts[0].source.coupon == coupon.id
    without = _session(client, monthly, mode="subscription")
    assert without.allow_promotion_codes is None
    refused = control.post(f"/checkout/sessions/{without.id}/promotion_code", {"code": "JOIN20"}, expect=400)
    assert "allow_promotion_codes" in refused["error"]["message"]
