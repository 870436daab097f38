"""Every object the sandbox serves has at least the top-level keys of Stripe's own example object."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import requests

from .conftest import API_KEY, connected_account

FIXTURES = Path(__file__).parents[2].parent / "shared/reference/stripe-fixtures3.json"


@pytest.fixture(scope="module")
def fixtures() -> dict[str, Any]:
    if not FIXTURES.exists():
        pytest.skip(f"Stripe's fixtures file is not available at {FIXTURES} (CI places shared/ beside the repo)")
    return json.loads(FIXTURES.read_text())["resources"]


def _raw(sandbox, method: str, path: str, data: dict[str, Any] | None = None) -> dict[str, Any]:
    r = requests.request(method, f"{sandbox.url}{path}", data=data, auth=(API_KEY, ""), timeout=10)
    assert r.status_code == 200, r.text
    return r.json()


def test_objects_have_every_fixture_key(client, sandbox, control, fixtures, receiver) -> None:
    clock = client.v1.test_helpers.test_clocks.create(params={"frozen_time": 1_900_000_000})
    product = client.v1.products.create(params={"name": "Shape"})
    price = client.v1.prices.create(params={"product": product.id, "unit_amount": 1000, "currency": "usd",
                                            "recurring": {"interval": "month"}})
    once = client.v1.prices.create(params={"product": product.id, "unit_amount": 500, "currency": "usd"})
    customer = client.v1.customers.create(params={"email": "s@example.com", "test_clock": clock.id})
    si = client.v1.setup_intents.create(params={"customer": customer.id, "payment_method": "pm_card_visa",
                                                "confirm": True})
    client.v1.customers.update(customer.id, params={"invoice_settings": {
        "default_payment_method": si.payment_method}})
    pi = client.v1.payment_intents.create(params={"amount": 2000, "currency": "usd", "payment_method": "pm_card_visa",
                                                  "confirm": True})
    refund = client.v1.refunds.create(params={"payment_intent": pi.id, "amount": 100})
    sub = client.v1.subscriptions.create(params={"customer": customer.id, "items": [{"price": price.id}]})
    cs = client.v1.checkout.sessions.create(params={"mode": "payment", "success_url": "https://x.example/ok",
                                                    "line_items": [{"price": once.id, "quantity": 1}]})
    endpoint = client.v1.webhook_endpoints.create(params={"url": receiver.url, "enabled_events": ["*"]})
    deletable = client.v1.customers.create(params={"email": "gone@example.com"})
    deletable_product = client.v1.products.create(params={"name": "Gone"})
    clock2 = client.v1.test_helpers.test_clocks.create(params={"frozen_time": 1_900_000_000})
    disputed = client.v1.payment_intents.create(params={"amount": 2000, "currency": "usd", "confirm": True,
                                                        "payment_method": "pm_card_createDispute"})
    dispute = client.v1.disputes.list(params={"payment_intent": disputed.id}).data[0]
    account = connected_account(client)
    express = client.v1.accounts.create(params={"type": "express"})
    destination = client.v1.payment_intents.create(params={
        "amount": 5000, "currency": "usd", "confirm": True, "payment_method": "pm_card_bypassPending",
        "application_fee_amount": 500, "transfer_data": {"destination": account.id}})
    transfer = client.v1.transfers.list(params={"destination": account.id}).data[0]
    reversal = client.v1.transfers.reversals.create(transfer.id, params={"amount": 100})
    fee = client.v1.application_fees.list().data[0]
    fee_refund = client.v1.application_fees.refunds.create(fee.id, params={"amount": 50})
    control.post("/balance/make_available")
    payout = client.v1.payouts.create(params={"amount": 100, "currency": "usd"})
    gone = client.v1.accounts.create(params={"type": "express"})
    plan = client.v1.plans.create(params={"amount": 1500, "currency": "usd", "interval": "month",
                                          "product": product.id})
    dropped_plan = client.v1.plans.create(params={"amount": 15000, "currency": "usd", "interval": "year",
                                                  "product": product.id})
    served: dict[str, dict[str, Any]] = {
        "product": _raw(sandbox, "GET", f"/v1/products/{product.id}"),
        "price": _raw(sandbox, "GET", f"/v1/prices/{price.id}"),
        "customer": _raw(sandbox, "GET", f"/v1/customers/{customer.id}"),
        "payment_method": _raw(sandbox, "GET", f"/v1/payment_methods/{si.payment_method}"),
        "setup_intent": _raw(sandbox, "GET", f"/v1/setup_intents/{si.id}"),
        "payment_intent": _raw(sandbox, "GET", f"/v1/payment_intents/{pi.id}"),
        "charge": _raw(sandbox, "GET", f"/v1/charges/{pi.latest_charge}"),
        "refund": _raw(sandbox, "GET", f"/v1/refunds/{refund.id}"),
        "checkout.session": _raw(sandbox, "GET", f"/v1/checkout/sessions/{cs.id}"),
        "item": _raw(sandbox, "GET", f"/v1/checkout/sessions/{cs.id}/line_items")["data"][0],
        "subscription": _raw(sandbox, "GET", f"/v1/subscriptions/{sub.id}"),
        "subscription_item": _raw(sandbox, "GET", f"/v1/subscription_items/{sub['items'].data[0].id}"),
        "invoice": _raw(sandbox, "GET", f"/v1/invoices/{sub.latest_invoice}"),
        "line_item": _raw(sandbox, "GET", f"/v1/invoices/{sub.latest_invoice}/lines")["data"][0],
        "invoice_payment": _raw(sandbox, "GET", f"/v1/invoice_payments?invoice={sub.latest_invoice}")["data"][0],
        "test_helpers.test_clock": _raw(sandbox, "GET", f"/v1/test_helpers/test_clocks/{clock.id}"),
        "event": _raw(sandbox, "GET", "/v1/events?limit=1")["data"][0],
        "webhook_endpoint": _raw(sandbox, "GET", f"/v1/webhook_endpoints/{endpoint.id}"),
        "dispute": _raw(sandbox, "GET", f"/v1/disputes/{dispute.id}"),
        "balance_transaction": _raw(sandbox, "GET", f"/v1/balance_transactions/{dispute.balance_transactions[0].id}"),
        "balance": _raw(sandbox, "GET", "/v1/balance"),
        "account": _raw(sandbox, "GET", f"/v1/accounts/{account.id}"),
        "bank_account": _raw(sandbox, "GET", f"/v1/accounts/{account.id}/external_accounts")["data"][0],
        "account_link": _raw(sandbox, "POST", "/v1/account_links", {"account": express.id,
                                                                     "type": "account_onboarding"}),
        "transfer": _raw(sandbox, "GET", f"/v1/transfers/{transfer.id}"),
        "transfer_reversal": _raw(sandbox, "GET", f"/v1/transfers/{transfer.id}/reversals/{reversal.id}"),
        "application_fee": _raw(sandbox, "GET", f"/v1/application_fees/{fee.id}"),
        "fee_refund": _raw(sandbox, "GET", f"/v1/application_fees/{fee.id}/refunds/{fee_refund.id}"),
        "payout": _raw(sandbox, "GET", f"/v1/payouts/{payout.id}"),
        "deleted_account": _raw(sandbox, "DELETE", f"/v1/accounts/{gone.id}"),
        "plan": _raw(sandbox, "GET", f"/v1/plans/{plan.id}"),
        "deleted_plan": _raw(sandbox, "DELETE", f"/v1/plans/{dropped_plan.id}"),
        "deleted_customer": _raw(sandbox, "DELETE", f"/v1/customers/{deletable.id}"),
        "deleted_product": _raw(sandbox, "DELETE", f"/v1/products/{deletable_product.id}"),
        "deleted_test_helpers.test_clock": _raw(sandbox, "DELETE", f"/v1/test_helpers/test_clocks/{clock2.id}"),
        "deleted_webhook_endpoint": _raw(sandbox, "DELETE", f"/v1/webhook_endpoints/{endpoint.id}"),
    }
    problems = {}
    for kind, obj in served.items():
        expected_object = kind.removeprefix("deleted_")
        assert obj["object"] == expected_object, kind
        missing = sorted(set(fixtures[kind]) - set(obj))
        if missing:
            problems[kind] = missing
    assert problems == {}
    assert destination.transfer_group == transfer.transfer_group
    # login links exist only for onboarded Express accounts: onboard one through its link's form
    link = _raw(sandbox, "POST", "/v1/account_links", {"account": express.id, "type": "account_onboarding"})
    form = {"business_type": "individual", "first_name": "A", "last_name": "B", "email": "a@example.com",
            "dob": "1990-01-02", "ssn_last_4": "0000", "business_url": "https://a.example",
            "routing_number": "110000000", "account_number": "000123456789", "tos": "accept"}
    assert requests.post(link["url"], data=form, timeout=10).status_code == 200
    login_link = _raw(sandbox, "POST", f"/v1/accounts/{express.id}/login_links")
    assert set(fixtures["login_link"]) <= set(login_link)
    # plus: the subscription's embedded items carry their period, as the pinned API version has them
    item = served["subscription"]["items"]["data"][0]
    assert set(fixtures["subscription_item"]) <= set(item)


def test_billing_objects_have_every_fixture_key(client, sandbox, control, fixtures) -> None:
    """Coupons, promotion codes, discounts, invoice items (prorations) and the customer portal's objects."""
    product = client.v1.products.create(params={"name": "Shape"})
    price = client.v1.prices.create(params={"product": product.id, "unit_amount": 1000, "currency": "usd",
                                            "recurring": {"interval": "month"}})
    other = client.v1.prices.create(params={"product": product.id, "unit_amount": 3000, "currency": "usd",
                                            "recurring": {"interval": "month"}})
    coupon = client.v1.coupons.create(params={"percent_off": 20, "duration": "forever"})
    gone = client.v1.coupons.create(params={"amount_off": 100, "currency": "usd"})
    promo = client.v1.promotion_codes.create(params={"promotion": {"type": "coupon", "coupon": coupon.id}})
    customer = client.v1.customers.create(params={"email": "shape@example.com"})
    pm = client.v1.payment_methods.attach("pm_card_visa", params={"customer": customer.id})
    client.v1.customers.update(customer.id, params={"invoice_settings": {"default_payment_method": pm.id}})
    sub = client.v1.subscriptions.create(params={"customer": customer.id, "items": [{"price": price.id}],
                                                 "discounts": [{"promotion_code": promo.id}]})
    extra = client.v1.subscription_items.create(params={"subscription": sub.id, "price": other.id,
                                                        "proration_behavior": "always_invoice"})
    proration_invoice = client.v1.subscriptions.retrieve(sub.id).latest_invoice
    item = client.v1.invoice_items.create(params={"customer": customer.id, "amount": 500, "currency": "usd"})
    config = client.v1.billing_portal.configurations.create(params={"features": {"invoice_history": {
        "enabled": True}}})
    portal = client.v1.billing_portal.sessions.create(params={"customer": customer.id, "configuration": config.id})
    served = [
        ("coupon", _raw(sandbox, "GET", f"/v1/coupons/{coupon.id}")),
        ("promotion_code", _raw(sandbox, "GET", f"/v1/promotion_codes/{promo.id}")),
        ("discount", _raw(sandbox, "GET", f"/v1/subscriptions/{sub.id}?expand[]=discounts")["discounts"][0]),
        ("invoiceitem", _raw(sandbox, "GET", f"/v1/invoiceitems/{item.id}")),
        ("line_item", _raw(sandbox, "GET", f"/v1/invoices/{proration_invoice}/lines")["data"][0]),
        ("billing_portal.configuration", _raw(sandbox, "GET", f"/v1/billing_portal/configurations/{config.id}")),
        ("billing_portal.session", _raw(sandbox, "POST", "/v1/billing_portal/sessions",
                                        {"customer": customer.id, "configuration": config.id})),
        ("deleted_coupon", _raw(sandbox, "DELETE", f"/v1/coupons/{gone.id}")),
        ("deleted_invoiceitem", _raw(sandbox, "DELETE", f"/v1/invoiceitems/{item.id}")),
        ("deleted_subscription_item", _raw(sandbox, "DELETE", f"/v1/subscription_items/{extra.id}")),
    ]
    assert portal.url.startswith(sandbox.url)
    assert served[4][1]["parent"]["type"] == "invoice_item_details"  # a proration line
    problems = {kind: sorted(set(fixtures[kind]) - set(obj)) for kind, obj in served
                if set(fixtures[kind]) - set(obj) or obj["object"] != kind.removeprefix("deleted_")}
    assert problems == {}
