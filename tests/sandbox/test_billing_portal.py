"""The customer portal (configurations, sessions, the hosted page in Chromium) and the hosted Checkout page's
promotion-code field."""

from __future__ import annotations

from typing import Any

import pytest
import stripe

PORTAL_FEATURES: dict[str, Any] = {
    "invoice_history": {"enabled": True},
    "payment_method_update": {"enabled": True},
    "subscription_cancel": {"enabled": True, "mode": "immediately", "proration_behavior": "create_prorations",
                            "cancellation_reason": {"enabled": True, "options": ["too_expensive", "unused"]}},
}


@pytest.fixture
def price(client):
    product = client.v1.products.create(params={"name": "Mentoring"})
    return client.v1.prices.create(params={"product": product.id, "unit_amount": 2000, "currency": "usd",
                                           "recurring": {"interval": "month"}})


@pytest.fixture
def subscriber(client, price):
    customer = client.v1.customers.create(params={"email": "portal@example.com", "name": "Pat Portal"})
    pm = client.v1.payment_methods.attach("pm_card_visa", params={"customer": customer.id})
    client.v1.customers.update(customer.id, params={"invoice_settings": {"default_payment_method": pm.id}})
    sub = client.v1.subscriptions.create(params={"customer": customer.id, "items": [{"price": price.id}],
                                                 "default_payment_method": pm.id})
    return customer, sub


def _types(client) -> list[str]:
    return [e.type for e in reversed(client.v1.events.list(params={"limit": 100}).data)]


def test_configurations_crud_and_unsupported_features(client) -> None:
    config = client.v1.billing_portal.configurations.create(params={
        "features": PORTAL_FEATURES, "business_profile": {"headline": "Coursepay billing"},
        "default_return_url": "https://example.com/account", "metadata": {"k": "v"}})
    assert (config.object, config.active, config.is_default) == ("billing_portal.configuration", True, False)
    cancel = config.features.subscription_cancel
    assert (cancel.enabled, cancel.mode, cancel.proration_behavior) == (True, "immediately", "create_prorations")
    assert cancel.cancellation_reason.options == ["too_expensive", "unused"]
    assert config.features.customer_update.enabled is False  # rendered, not supported
    updated = client.v1.billing_portal.configurations.update(config.id, params={
        "name": "Main", "features": {"subscription_cancel": {"mode": "at_period_end"}}})
    assert (updated.name, updated.features.subscription_cancel.mode) == ("Main", "at_period_end")
    assert updated.features.invoice_history.enabled is True
    assert client.v1.billing_portal.configurations.retrieve(config.id).name == "Main"
    assert [c.id for c in client.v1.billing_portal.configurations.list(params={"is_default": False}).data] == [
        config.id]
    assert client.v1.events.list(params={"type": "billing_portal.configuration.*"}).data[0].type == \
        "billing_portal.configuration.updated"
    for params in ({"features": {"customer_update": {"enabled": True}}},
                   {"features": {"invoice_history": {"enabled": True}}, "login_page": {"enabled": True}}):
        with pytest.raises(stripe.InvalidRequestError) as exc:
            client.v1.billing_portal.configurations.create(params=params)  # type: ignore[arg-type]
        assert exc.value.code == "parameter_unknown"
    with pytest.raises(stripe.InvalidRequestError) as exc:
        client.v1.billing_portal.configurations.create(params={})  # type: ignore[typeddict-item]
    assert (exc.value.code, exc.value.param) == ("parameter_missing", "features")


def test_sessions_need_a_configuration_or_the_default(client, control, subscriber, sandbox) -> None:
    customer, _ = subscriber
    with pytest.raises(stripe.InvalidRequestError) as exc:
        client.v1.billing_portal.sessions.create(params={"customer": customer.id})
    assert exc.value.param == "configuration"
    default = control.post("/billing_portal/default_configuration")
    assert default["is_default"] is True
    assert default["features"]["subscription_cancel"] == {
        "cancellation_reason": {"enabled": False, "options": []}, "enabled": True, "mode": "at_period_end",
        "proration_behavior": "none"}
    session = client.v1.billing_portal.sessions.create(params={"customer": customer.id,
                                                               "return_url": "https://example.com/back"})
    assert session.object == "billing_portal.session"
    assert (session.configuration, session.customer, session.return_url) == (
        default["id"], customer.id, "https://example.com/back")
    assert session.url == f"{sandbox.url}/p/session/{session.id}"
    created = client.v1.events.list(params={"type": "billing_portal.session.created"}).data
    assert [e.data.object.id for e in created] == [session.id]
    with pytest.raises(stripe.InvalidRequestError) as exc:
        client.v1.billing_portal.sessions.create(params={"customer": customer.id, "flow_data": {
            "type": "payment_method_update"}})
    assert exc.value.code == "parameter_unknown"
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.billing_portal.configurations.update(default["id"], params={"active": False})


# ------------------------------------------------------------------------------------ browser
@pytest.mark.browser
def test_portal_card_update_and_cancel_at_period_end(page, client, control, subscriber) -> None:
    customer, sub = subscriber
    control.post("/billing_portal/default_configuration")
    session = client.v1.billing_portal.sessions.create(params={"customer": customer.id,
                                                               "return_url": "https://example.com/back"})
    page.goto(session.url)
    assert page.inner_text("#customer_email") == "portal@example.com"
    assert "4242" in page.inner_text("#payment_method")
    assert page.locator(f"#invoice-{sub.latest_invoice}").count() == 1
    assert page.get_attribute("#return", "href") == "https://example.com/back"
    page.fill("#card_number", "5555 5555 5555 4444")
    page.fill("#exp", "12/34")
    page.fill("#cvc", "123")
    page.click("#update_payment_method")
    assert "updated" in page.inner_text("#message")
    assert "4444" in page.inner_text("#payment_method")
    refreshed = client.v1.customers.retrieve(customer.id)
    new_pm = client.v1.payment_methods.retrieve(refreshed.invoice_settings.default_payment_method)
    assert (new_pm.card.last4, new_pm.customer) == ("4444", customer.id)
    assert client.v1.subscriptions.retrieve(sub.id).default_payment_method == new_pm.id
    page.click(f"#cancel-{sub.id}")
    assert "will end on" in page.inner_text("#message")
    pending = client.v1.subscriptions.retrieve(sub.id)
    assert (pending.status, pending.cancel_at_period_end) == ("active", True)
    assert page.inner_text(f"#status-{sub.id}").startswith("Cancels on")
    page.click(f"#renew-{sub.id}")
    assert client.v1.subscriptions.retrieve(sub.id).cancel_at_period_end is False
    types = _types(client)
    card_events = ["setup_intent.created", "payment_method.attached", "setup_intent.succeeded", "customer.updated"]
    assert [t for t in types if t in card_events][-4:] == card_events
    assert types.count("customer.subscription.updated") >= 3  # default card, cancel, renew


@pytest.mark.browser
def test_portal_cancel_now_with_reason_and_proration(page, client, subscriber) -> None:
    customer, sub = subscriber
    config = client.v1.billing_portal.configurations.create(params={"features": PORTAL_FEATURES})
    session = client.v1.billing_portal.sessions.create(params={"customer": customer.id,
                                                               "configuration": config.id})
    page.goto(session.url)
    page.select_option(f"#cancellation_reason-{sub.id}", "too_expensive")
    page.click(f"#cancel-{sub.id}")
    assert "cancelled" in page.inner_text("#message")
    canceled = client.v1.subscriptions.retrieve(sub.id)
    assert canceled.status == "canceled"
    assert (canceled.cancellation_details.reason, canceled.cancellation_details.feedback) == (
        "cancellation_requested", "too_expensive")
    credit = client.v1.invoice_items.list(params={"customer": customer.id, "pending": True}).data
    assert len(credit) == 1
    assert credit[0].proration
    assert credit[0].amount in (-2000, -1999)  # the unused time: cancelled seconds after subscribing
    assert "customer.subscription.deleted" in _types(client)
    assert "No active subscriptions" in page.inner_text("#subscriptions")


@pytest.mark.browser
def test_portal_card_update_with_three_d_secure(page, client, control, subscriber) -> None:
    customer, _ = subscriber
    control.post("/billing_portal/default_configuration")
    session = client.v1.billing_portal.sessions.create(params={"customer": customer.id})
    page.goto(session.url)
    page.fill("#card_number", "4000 0025 0000 3155")
    page.fill("#exp", "12/34")
    page.fill("#cvc", "123")
    page.click("#update_payment_method")
    page.click("#complete")  # the 3-D Secure page, then back to the portal
    page.wait_for_url(f"**/p/session/{session.id}?*")
    assert "updated" in page.inner_text("#message")
    default = client.v1.customers.retrieve(customer.id).invoice_settings.default_payment_method
    assert client.v1.payment_methods.retrieve(default).card.last4 == "3155"


@pytest.mark.browser
def test_hosted_checkout_promotion_code_field(page, client) -> None:
    product = client.v1.products.create(params={"name": "Browser course"})
    price = client.v1.prices.create(params={"product": product.id, "unit_amount": 4900, "currency": "usd"})
    coupon = client.v1.coupons.create(params={"amount_off": 1000, "currency": "usd"})
    promo = client.v1.promotion_codes.create(params={"promotion": {"type": "coupon", "coupon": coupon.id},
                                                     "code": "TENOFF"})
    session = client.v1.checkout.sessions.create(params={
        "mode": "payment", "allow_promotion_codes": True, "line_items": [{"price": price.id, "quantity": 1}],
        "success_url": "http://127.0.0.1:9/success?session_id={CHECKOUT_SESSION_ID}"})
    page.goto(session.url)
    assert page.inner_text("#total") == "$49.00"
    page.fill("#promotion_code", "WRONG")
    page.click("#apply_promotion_code")
    assert page.inner_text("#promotion_code_error") == "This code is invalid."
    page.fill("#promotion_code", "tenoff")
    page.click("#apply_promotion_code")
    assert page.inner_text("#applied_promotion_code") == "TENOFF"
    assert page.inner_text("#discount") == "−$10.00"  # noqa: RUF001
    assert page.inner_text("#total") == "$39.00"
    applied = client.v1.checkout.sessions.retrieve(session.id)
    assert (applied.amount_total, applied.discounts[0].promotion_code) == (3900, promo.id)
    page.fill("#email", "grace@example.com")
    page.fill("#name", "Grace Hopper")
    page.fill("#card_number", "4242 4242 4242 4242")
    page.fill("#exp", "12/34")
    page.fill("#cvc", "123")
    with page.expect_request(lambda r: r.url.startswith("http://127.0.0.1:9/success")):
        page.click("#pay")
    done = client.v1.checkout.sessions.retrieve(session.id)
    assert (done.status, done.amount_total, done.total_details.amount_discount) == ("complete", 3900, 1000)
    assert client.v1.payment_intents.retrieve(done.payment_intent).amount_received == 3900
    assert client.v1.promotion_codes.retrieve(promo.id).times_redeemed == 1


@pytest.mark.browser
def test_hosted_checkout_promotion_code_can_be_removed(page, client) -> None:
    product = client.v1.products.create(params={"name": "Removable"})
    price = client.v1.prices.create(params={"product": product.id, "unit_amount": 3000, "currency": "usd"})
    coupon = client.v1.coupons.create(params={"percent_off": 50})
    client.v1.promotion_codes.create(params={"promotion": {"type": "coupon", "coupon": coupon.id}, "code": "HALF"})
    session = client.v1.checkout.sessions.create(params={
        "mode": "payment", "allow_promotion_codes": True, "line_items": [{"price": price.id, "quantity": 1}],
        "success_url": "https://example.com/ok"})
    page.goto(session.url)
    page.fill("#promotion_code", "HALF")
    page.click("#apply_promotion_code")
    assert page.inner_text("#total") == "$15.00"
    page.click("#remove_promotion_code")
    assert page.inner_text("#total") == "$30.00"
    assert page.locator("#discount").count() == 0
    assert client.v1.checkout.sessions.retrieve(session.id).discounts == []
