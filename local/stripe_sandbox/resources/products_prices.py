"""Products and Prices."""

from __future__ import annotations

from typing import Any

from ..app import Obj, Sandbox
from ..errors import StripeError, invalid
from ..forms import Params, metadata_update
from ..router import Request, api, retrieve_route
from ..store import new_id
from ._util import nullable_str, update_with_event

INTERVALS = {"day": 365, "week": 52, "month": 12, "year": 1}  # max interval_count (one year)


# ---------------------------------------------------------------------------- products
def create_product(app: Sandbox, p: Params) -> Obj:
    now = app.now()
    prod_id = p.str("id") or new_id("prod_", 14)
    if app.store.get(prod_id, "product"):
        raise StripeError(400, "Product already exists.", code="resource_already_exists", param="id")
    product: Obj = {
        "id": prod_id,
        "object": "product",
        "active": bool(p.bool("active", True)),
        "created": now,
        "default_price": None,
        "description": p.str("description"),
        "images": [str(i) for i in p.list("images")],
        "livemode": False,
        "marketing_features": [],
        "metadata": metadata_update({}, p.raw("metadata")),
        "name": p.req("name"),
        "package_dimensions": None,
        "shippable": p.bool("shippable"),
        "statement_descriptor": p.str("statement_descriptor"),
        "tax_code": p.str("tax_code"),
        "type": "service",
        "unit_label": p.str("unit_label"),
        "updated": now,
        "url": p.str("url"),
    }
    app.add(product)
    app.emit("product.created", product)
    if "default_price_data" in p:
        dp = p.sub("default_price_data")
        dp.allow("currency", "unit_amount", "unit_amount_decimal", "recurring", "tax_behavior", "metadata")
        price = create_price(app, Params({**dp.data, "product": prod_id}))
        update_with_event(app, product, lambda: product.update(default_price=price["id"]))
    return product


@api("POST", "/v1/products")
def products_create(req: Request) -> Obj:
    p = req.p
    p.allow("id", "name", "active", "description", "metadata", "images", "shippable", "statement_descriptor",
            "tax_code", "unit_label", "url", "default_price_data")
    return req.app.render(create_product(req.app, p))


retrieve_route("/v1/products/{id}", "product")


@api("POST", "/v1/products/{id}")
def products_update(req: Request) -> Obj:
    app, p = req.app, req.p
    p.allow("name", "active", "description", "metadata", "images", "shippable", "statement_descriptor",
            "tax_code", "unit_label", "url", "default_price")
    product = app.get("product", req.args["id"])

    def mutate() -> None:
        if "name" in p:
            product["name"] = p.req("name")
        if "active" in p:
            product["active"] = bool(p.bool("active"))
        for key in ("description", "statement_descriptor", "unit_label", "url", "tax_code"):
            if key in p:
                product[key] = nullable_str(p.raw(key), key)
        if "shippable" in p:
            product["shippable"] = p.bool("shippable")
        if "images" in p:
            product["images"] = [str(i) for i in p.list("images")]
        if "metadata" in p:
            product["metadata"] = metadata_update(product["metadata"], p.raw("metadata"))
        if "default_price" in p:
            price_id = p.str("default_price")
            if price_id:
                price = app.get("price", price_id, "default_price")
                if price["product"] != product["id"]:
                    raise invalid("default_price", "The price must belong to this product.")
            product["default_price"] = price_id

    update_with_event(app, product, mutate)
    return app.render(product)


@api("DELETE", "/v1/products/{id}")
def products_delete(req: Request) -> Obj:
    app = req.app
    product = app.get("product", req.args["id"])
    if any(pr["product"] == product["id"] for pr in app.store.all("price")):
        raise StripeError(400, "This product cannot be deleted because it has one or more user-created "
                          "prices.", )
    app.emit("product.deleted", product)
    product["_deleted"] = True
    return app.render(product)


@api("GET", "/v1/products")
def products_list(req: Request) -> Obj:
    app, p = req.app, req.p
    objs = app.store.all("product")
    if "active" in p:
        active = p.bool("active")
        objs = [o for o in objs if o["active"] == active]
    ids = p.list("ids")
    if ids:
        objs = [o for o in objs if o["id"] in ids]
    if "url" in p:
        objs = [o for o in objs if o["url"] == p.str("url")]
    return app.list_response(objs, p, "/v1/products")


@api("GET", "/v1/products/search")
def products_search(req: Request) -> Obj:
    return req.app.search_response(req.app.store.all("product"), req.p, "/v1/products/search",
                                   {"active", "description", "metadata", "name", "shippable", "url", "created"})


# ------------------------------------------------------------------------------ prices
def _recurring(p: Params) -> dict[str, Any] | None:
    if "recurring" not in p:
        return None
    r = p.sub("recurring")
    r.allow("interval", "interval_count", "usage_type", "trial_period_days", "meter", "aggregate_usage")
    interval = r.req("interval")
    if interval not in INTERVALS:
        raise invalid("recurring[interval]", "Invalid recurring[interval]: must be one of day, month, week, "
                      "or year", "parameter_invalid_string")
    count = r.int("interval_count", 1)
    assert count is not None
    if count < 1 or count > INTERVALS[interval]:
        raise invalid("recurring[interval_count]", "The maximum billing frequency is one year "
                      "(1 year, 12 months, 52 weeks or 365 days).", "parameter_invalid_integer")
    usage = r.str("usage_type", "licensed")
    if usage != "licensed":
        raise invalid("recurring[usage_type]", "The sandbox only supports licensed (per-seat) prices.",
                      "parameter_invalid_string")
    return {"interval": interval, "interval_count": count, "meter": None,
            "trial_period_days": r.int("trial_period_days"), "usage_type": usage}


def _check_lookup_key(app: Sandbox, key: str, transfer: bool, exclude: str | None = None) -> None:
    for other in app.store.all("price"):
        if other["lookup_key"] == key and other["id"] != exclude:
            if not transfer:
                raise StripeError(400, f"A price (`{other['id']}`) already uses that lookup key.",
                                  param="lookup_key")
            before = app.render(other)
            other["lookup_key"] = None
            app.emit("price.updated", other, {"lookup_key": before["lookup_key"]})


def create_price(app: Sandbox, p: Params, price_id: str | None = None) -> Obj:
    """A price from Prices API parameters; ``price_id`` is a plan's own id (POST /v1/plans, plans.py)."""
    currency = p.currency()
    unit_amount = p.amount("unit_amount", required=False, allow_zero=True)
    if unit_amount is None:
        decimal = p.str("unit_amount_decimal")
        if decimal is None:
            raise invalid("unit_amount", "Missing required param: unit_amount.", "parameter_missing")
        try:
            unit_amount = int(decimal)
        except ValueError:
            raise invalid("unit_amount_decimal", "The sandbox only supports integral unit amounts.",
                          "parameter_invalid_string") from None
    if "product_data" in p:
        pd = p.sub("product_data")
        pd.allow("name", "active", "metadata", "statement_descriptor", "tax_code", "unit_label", "id")
        product = create_product(app, pd)
    elif p.str("product"):
        product = app.get("product", p.req("product"), "product")
    else:
        raise StripeError(400, "Missing required param: product.", code="parameter_missing", param="product")
    lookup_key = p.str("lookup_key")
    if lookup_key:
        _check_lookup_key(app, lookup_key, bool(p.bool("transfer_lookup_key", False)))
    recurring = _recurring(p)
    tax_behavior = p.str("tax_behavior", "unspecified")
    if tax_behavior not in ("unspecified", "inclusive", "exclusive"):
        raise invalid("tax_behavior", "Invalid tax_behavior", "parameter_invalid_string")
    price: Obj = {
        "id": price_id or new_id("price_"),
        "object": "price",
        "active": bool(p.bool("active", True)),
        "billing_scheme": "per_unit",
        "created": app.now(),
        "currency": currency,
        "custom_unit_amount": None,
        "livemode": False,
        "lookup_key": lookup_key,
        "metadata": metadata_update({}, p.raw("metadata")),
        "nickname": p.str("nickname"),
        "product": product["id"],
        "recurring": recurring,
        "tax_behavior": tax_behavior,
        "tiers_mode": None,
        "transform_quantity": None,
        "type": "recurring" if recurring else "one_time",
        "unit_amount": unit_amount,
        "unit_amount_decimal": str(unit_amount),
    }
    app.add(price)
    app.emit("price.created", price)
    return price


@api("POST", "/v1/prices")
def prices_create(req: Request) -> Obj:
    p = req.p
    p.allow("currency", "unit_amount", "unit_amount_decimal", "product", "product_data", "recurring", "lookup_key",
            "transfer_lookup_key", "nickname", "metadata", "active", "tax_behavior", "billing_scheme")
    if p.str("billing_scheme", "per_unit") != "per_unit":
        raise invalid("billing_scheme", "The sandbox only supports per_unit prices.", "parameter_invalid_string")
    return req.app.render(create_price(req.app, p))


retrieve_route("/v1/prices/{id}", "price")


def update_price_labels(price: Obj, p: Params) -> None:
    """``active``, ``nickname`` and ``metadata``: what both a price update and a plan update change."""
    if "active" in p:
        price["active"] = bool(p.bool("active"))
    if "nickname" in p:
        price["nickname"] = nullable_str(p.raw("nickname"), "nickname")
    if "metadata" in p:
        price["metadata"] = metadata_update(price["metadata"], p.raw("metadata"))


@api("POST", "/v1/prices/{id}")
def prices_update(req: Request) -> Obj:
    app, p = req.app, req.p
    # amounts, currency and recurrence are immutable: they are "unknown parameters" here, as on Stripe
    p.allow("active", "metadata", "nickname", "lookup_key", "transfer_lookup_key", "tax_behavior")
    price = app.get("price", req.args["id"])

    def mutate() -> None:
        update_price_labels(price, p)
        if "tax_behavior" in p:
            price["tax_behavior"] = p.str("tax_behavior")
        if "lookup_key" in p:
            key = nullable_str(p.raw("lookup_key"), "lookup_key")
            if key:
                _check_lookup_key(app, key, bool(p.bool("transfer_lookup_key", False)), exclude=price["id"])
            price["lookup_key"] = key

    update_with_event(app, price, mutate)
    return app.render(price)


@api("GET", "/v1/prices")
def prices_list(req: Request) -> Obj:
    app, p = req.app, req.p
    objs = app.store.all("price")
    if "active" in p:
        active = p.bool("active")
        objs = [o for o in objs if o["active"] == active]
    for key in ("currency", "product", "type"):
        if p.str(key):
            objs = [o for o in objs if o[key] == p.str(key)]
    keys = p.list("lookup_keys")
    if keys:
        objs = [o for o in objs if o["lookup_key"] in keys]
    if "recurring" in p:
        interval = p.sub("recurring").str("interval")
        objs = [o for o in objs if o["recurring"] and (not interval or o["recurring"]["interval"] == interval)]
    return app.list_response(objs, p, "/v1/prices")


@api("GET", "/v1/prices/search")
def prices_search(req: Request) -> Obj:
    return req.app.search_response(req.app.store.all("price"), req.p, "/v1/prices/search",
                                   {"active", "currency", "lookup_key", "metadata", "product", "type", "created"})
