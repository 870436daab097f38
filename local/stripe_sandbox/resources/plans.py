"""The legacy Plans API, served the way Stripe's compatibility layer serves it: a plan *is* a recurring price.

``POST /v1/plans`` creates a recurring Price (with the plan's id when one is given, e.g. ``gold``); every recurring
price is retrievable and listable as a plan under the same id, and usable as ``items[].plan`` on subscriptions
(and their items). A deleted plan stays behind as an inactive price for the subscriptions that use it
("existing subscribers aren't affected"), but is no plan any more: ``No such plan``.
"""

from __future__ import annotations

from ..app import Obj, Sandbox, previous_attributes
from ..errors import StripeError, invalid, missing, no_such
from ..forms import Params
from ..router import Request, api
from ._util import update_with_event
from .products_prices import INTERVALS, create_price, update_price_labels

PRODUCT_DATA = ("id", "name", "active", "metadata", "statement_descriptor", "tax_code", "unit_label")


def plan_object(price: Obj) -> Obj:
    """A recurring price in the Plan object's shape (also ``subscription_item.plan``)."""
    rec = price["recurring"] or {}
    return {
        "id": price["id"], "object": "plan", "active": price["active"], "amount": price["unit_amount"],
        "amount_decimal": price["unit_amount_decimal"], "billing_scheme": "per_unit", "created": price["created"],
        "currency": price["currency"], "interval": rec.get("interval"), "interval_count": rec.get("interval_count"),
        "livemode": False, "metadata": price["metadata"], "meter": None, "nickname": price["nickname"],
        "product": price["product"], "tiers_mode": None, "transform_usage": None,
        "trial_period_days": rec.get("trial_period_days"), "usage_type": "licensed",
    }


def _is_plan(price: Obj | None) -> bool:
    return price is not None and bool(price["recurring"]) and not price.get("_deleted") \
        and not price.get("_plan_deleted")


def plan_price(app: Sandbox, plan_id: str, param: str = "id") -> Obj:
    """The recurring price behind a plan id, or Stripe's ``No such plan``."""
    price = app.store.get(plan_id, "price")
    if not _is_plan(price):
        raise no_such("plan", plan_id, param)
    assert price is not None
    return price


def item_plan(app: Sandbox, ip: Params) -> Obj | None:
    """``items[i][plan]`` (the SDK still sends it): the plan's price; None when the entry names no plan."""
    if not ip.str("plan"):
        return None
    if ip.str("price") or "price_data" in ip:
        raise invalid(ip.name("plan"), "You may only specify one of these parameters: plan, price, price_data.")
    return plan_price(app, ip.req("plan"), ip.name("plan"))


def _product(app: Sandbox, p: Params) -> dict[str, object]:
    """``product`` is an id or, as on Stripe's Plans API, a hash creating one."""
    if isinstance(p.raw("product"), dict):
        data = p.sub("product")
        data.allow(*PRODUCT_DATA)
        data.req("name")
        return {"product_data": data.data}
    if p.str("product"):
        return {"product": p.req("product")}
    raise missing("product")


def _recurring(p: Params) -> dict[str, object]:
    interval = p.req("interval")
    if interval not in INTERVALS:
        raise invalid("interval", "Invalid interval: must be one of day, month, week, or year",
                      "parameter_invalid_string")
    count = p.int("interval_count", 1)
    assert count is not None
    if not 1 <= count <= INTERVALS[interval]:
        raise invalid("interval_count", "The maximum billing frequency is one year (1 year, 12 months, 52 weeks or "
                      "365 days).", "parameter_invalid_integer")
    if p.str("usage_type", "licensed") != "licensed":
        raise invalid("usage_type", "The sandbox only supports licensed (per-seat) plans.", "parameter_invalid_string")
    recurring: dict[str, object] = {"interval": interval, "interval_count": count}
    if p.int("trial_period_days") is not None:
        recurring["trial_period_days"] = p.int("trial_period_days", minimum=0)
    return recurring


@api("POST", "/v1/plans")
def plans_create(req: Request) -> Obj:
    app, p = req.app, req.p
    p.allow("id", "amount", "amount_decimal", "currency", "interval", "interval_count", "product", "nickname",
            "active", "metadata", "trial_period_days", "usage_type", "billing_scheme")
    if p.str("billing_scheme", "per_unit") != "per_unit":
        raise invalid("billing_scheme", "The sandbox only supports per_unit plans (no tiers).",
                      "parameter_invalid_string")
    plan_id = p.str("id")
    if plan_id and app.store.get(plan_id, "price"):
        raise StripeError(400, "Plan already exists.", code="resource_already_exists", param="id")
    amount = p.amount("amount", required=False, allow_zero=True)
    if amount is None and p.str("amount_decimal") is None:
        raise missing("amount")
    price_params = {"currency": p.currency(), "recurring": _recurring(p), **_product(app, p),
                    **({"unit_amount": str(amount)} if amount is not None else
                       {"unit_amount_decimal": p.str("amount_decimal")}),
                    **{key: p.raw(key) for key in ("nickname", "metadata", "active") if key in p}}
    price = create_price(app, Params(price_params), price_id=plan_id)
    app.emit("plan.created", plan_object(price))
    return plan_object(price)


@api("GET", "/v1/plans/{id}")
def plans_retrieve(req: Request) -> Obj:
    req.p.allow()
    return plan_object(plan_price(req.app, req.args["id"]))


@api("POST", "/v1/plans/{id}")
def plans_update(req: Request) -> Obj:
    """Amount, currency and interval are immutable (unknown parameters here, as on Stripe)."""
    app, p = req.app, req.p
    p.allow("active", "metadata", "nickname", "product", "trial_period_days")
    price = plan_price(app, req.args["id"])
    before = plan_object(price)

    def mutate() -> None:
        update_price_labels(price, p)
        if "product" in p:
            price["product"] = app.get("product", p.req("product"), "product")["id"]
        if "trial_period_days" in p:
            price["recurring"]["trial_period_days"] = p.int("trial_period_days", minimum=0)

    update_with_event(app, price, mutate)  # price.updated: it is the same object
    after = plan_object(price)
    if after != before:
        app.emit("plan.updated", after, previous_attributes(before, after))
    return after


@api("DELETE", "/v1/plans/{id}")
def plans_delete(req: Request) -> Obj:
    app = req.app
    req.p.allow()
    price = plan_price(app, req.args["id"])
    app.emit("plan.deleted", plan_object(price))
    update_with_event(app, price, lambda: price.update(active=False, _plan_deleted=True))
    return {"id": price["id"], "object": "plan", "deleted": True}


@api("GET", "/v1/plans")
def plans_list(req: Request) -> Obj:
    app, p = req.app, req.p
    p.allow("active", "product", "created", "limit", "starting_after", "ending_before")
    plans = [price for price in app.store.all("price") if _is_plan(price)]
    if "active" in p:
        plans = [price for price in plans if price["active"] == p.bool("active")]
    if p.str("product"):
        plans = [price for price in plans if price["product"] == p.str("product")]
    return app.list_response(plans, p, "/v1/plans", render=plan_object)
