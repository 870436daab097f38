"""The legacy Plans API and items[].plan, as Stripe's compatibility layer serves them (a plan is a recurring price)."""

from __future__ import annotations

import pytest
import requests
import stripe

from .conftest import API_KEY


def _types(client) -> list[str]:
    return [e.type for e in client.v1.events.list(params={"limit": 100}).data]


def test_plan_is_a_recurring_price(client) -> None:
    plan = client.v1.plans.create(params={"id": "gold-monthly", "amount": 2000, "currency": "usd",
                                          "interval": "month", "product": {"name": "Gold tutoring"},
                                          "nickname": "Gold", "metadata": {"tier": "gold"}})
    assert (plan.id, plan.object, plan.amount, plan.interval, plan.interval_count) == (
        "gold-monthly", "plan", 2000, "month", 1)
    assert (plan.usage_type, plan.billing_scheme, plan.active, plan.nickname) == ("licensed", "per_unit", True, "Gold")
    price = client.v1.prices.retrieve("gold-monthly")
    assert (price.object, price.type, price.unit_amount, price.product) == ("price", "recurring", 2000, plan.product)
    assert price.recurring is not None
    assert price.recurring.interval == "month"
    assert client.v1.products.retrieve(plan.product).name == "Gold tutoring"
    assert {"plan.created", "price.created", "product.created"} <= set(_types(client))
    # and a recurring price made with the Prices API is a plan under the same id
    recurring = client.v1.prices.create(params={"product": plan.product, "unit_amount": 19000, "currency": "usd",
                                                "recurring": {"interval": "year"}})
    as_plan = client.v1.plans.retrieve(recurring.id)
    assert (as_plan.amount, as_plan.interval) == (19000, "year")
    once = client.v1.prices.create(params={"product": plan.product, "unit_amount": 500, "currency": "usd"})
    with pytest.raises(stripe.InvalidRequestError) as exc:
        client.v1.plans.retrieve(once.id)
    assert exc.value.http_status == 404
    assert str(exc.value.user_message) == f"No such plan: '{once.id}'"


def test_update_list_delete(client) -> None:
    product = client.v1.products.create(params={"name": "Silver"})
    plan = client.v1.plans.create(params={"amount": 900, "currency": "usd", "interval": "week",
                                          "interval_count": 2, "product": product.id})
    assert plan.id.startswith("price_")
    updated = client.v1.plans.update(plan.id, params={"nickname": "Fortnightly", "trial_period_days": 7,
                                                      "metadata": {"a": "1"}})
    assert (updated.nickname, updated.trial_period_days, updated.metadata.to_dict()) == ("Fortnightly", 7, {"a": "1"})
    plan_updated = client.v1.events.list(params={"type": "plan.updated"}).data
    assert plan_updated[0].data.previous_attributes["nickname"] is None
    with pytest.raises(stripe.InvalidRequestError) as immutable:
        client.v1.plans.update(plan.id, params={"amount": 1000})  # type: ignore[typeddict-unknown-key]
    assert (immutable.value.code, immutable.value.param) == ("parameter_unknown", "amount")
    other = client.v1.plans.create(params={"amount": 100, "currency": "usd", "interval": "day",
                                           "product": product.id, "active": False})
    assert [p.id for p in client.v1.plans.list(params={"product": product.id}).data] == [other.id, plan.id]
    assert [p.id for p in client.v1.plans.list(params={"active": True}).data] == [plan.id]
    deleted = client.v1.plans.delete(plan.id)
    assert (deleted.id, deleted.deleted) == (plan.id, True)
    assert "plan.deleted" in _types(client)
    with pytest.raises(stripe.InvalidRequestError) as gone:
        client.v1.plans.retrieve(plan.id)
    assert gone.value.http_status == 404
    assert client.v1.prices.retrieve(plan.id).active is False  # kept for its existing subscribers
    assert [p.id for p in client.v1.plans.list().data] == [other.id]


@pytest.mark.parametrize(("params", "param"), [
    ({"currency": "usd", "interval": "month", "product": "prod_missing"}, "amount"),
    ({"amount": 100, "currency": "usd", "interval": "fortnight", "product": {"name": "x"}}, "interval"),
    ({"amount": 100, "currency": "usd", "interval": "month"}, "product"),
    ({"amount": 100, "currency": "usd", "interval": "month", "product": {"name": "x"}, "usage_type": "metered"},
     "usage_type"),
    ({"amount": 100, "currency": "usd", "interval": "month", "product": {"name": "x"}, "tiers_mode": "graduated"},
     "tiers_mode"),
    ({"amount": 100, "currency": "usd", "interval": "month", "product": {"name": "x", "images": ["a"]}},
     "product[images]"),
])
def test_plan_create_refuses(client, params, param) -> None:
    with pytest.raises(stripe.InvalidRequestError) as exc:
        client.v1.plans.create(params=params)
    assert exc.value.param == param


def test_duplicate_plan_id(client) -> None:
    params = {"id": "basic", "amount": 500, "currency": "usd", "interval": "month", "product": {"name": "Basic"}}
    client.v1.plans.create(params=params)
    with pytest.raises(stripe.InvalidRequestError) as exc:
        client.v1.plans.create(params=params)
    assert exc.value.code == "resource_already_exists"


def test_subscription_items_plan(client) -> None:
    client.v1.plans.create(params={"id": "gold", "amount": 3000, "currency": "usd", "interval": "month",
                                   "product": {"name": "Gold"}})
    customer = client.v1.customers.create(params={"email": "legacy@example.com", "payment_method": "pm_card_visa"})
    customer = client.v1.customers.update(customer.id, params={"invoice_settings": {
        "default_payment_method": client.v1.customers.payment_methods.list(customer.id).data[0].id}})
    sub = client.v1.subscriptions.create(params={"customer": customer.id, "items": [{"plan": "gold", "quantity": 2}],
                                                 "expand": ["latest_invoice"]})
    item = sub["items"].data[0]
    assert (item.price.id, item.plan.id, item.plan.object, item.quantity) == ("gold", "gold", "plan", 2)
    assert sub.latest_invoice.amount_due == 6000
    with pytest.raises(stripe.InvalidRequestError) as unknown:
        client.v1.subscriptions.create(params={"customer": customer.id, "items": [{"plan": "platinum"}]})
    assert (unknown.value.http_status, unknown.value.param) == (404, "items[0][plan]")
    assert str(unknown.value.user_message) == "No such plan: 'platinum'"
    with pytest.raises(stripe.InvalidRequestError) as both:
        client.v1.subscriptions.create(params={"customer": customer.id, "items": [{"plan": "gold", "price": "gold"}]})
    assert both.value.param == "items[0][plan]"
    client.v1.plans.create(params={"id": "gold-plus", "amount": 4500, "currency": "usd", "interval": "month",
                                   "product": {"name": "Gold+"}})
    added = client.v1.subscription_items.create(params={"subscription": sub.id, "plan": "gold-plus",
                                                        "proration_behavior": "none"})
    assert (added.plan.id, added.price.unit_amount) == ("gold-plus", 4500)


def test_plan_routes_answer_like_stripe_not_a_generic_404(sandbox) -> None:
    r = requests.get(f"{sandbox.url}/v1/plans/nope", auth=(API_KEY, ""), timeout=5)
    assert r.status_code == 404
    err = r.json()["error"]
    assert (err["code"], err["param"], err["message"]) == ("resource_missing", "id", "No such plan: 'nope'")
