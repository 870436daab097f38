"""Coupons (``/v1/coupons``): percent or amount off, duration once / repeating / forever, redemption limits.

A coupon is redeemed by turning it into a discount (``resources/discounts.py``); ``times_redeemed`` counts those.
Coupon ids may be chosen by the caller, so they carry no prefix.
"""

from __future__ import annotations

import re
import secrets
import string
from decimal import Decimal, InvalidOperation

from ..app import RENDERERS, VIRTUAL_EXPANDS, Obj, Sandbox
from ..errors import StripeError, invalid
from ..forms import Params, metadata_update
from ..router import Request, api, retrieve_route
from ._util import nullable_str, update_with_event

DURATIONS = ("once", "repeating", "forever")
_ID_ALPHABET = string.ascii_uppercase + string.digits


def coupon_is_valid(app: Sandbox, coupon: Obj) -> bool:
    """Stripe's ``valid``: not deleted, not past ``redeem_by``, not redeemed ``max_redemptions`` times."""
    if coupon.get("_deleted"):
        return False
    if coupon["redeem_by"] is not None and app.now() >= coupon["redeem_by"]:
        return False
    return coupon["max_redemptions"] is None or coupon["times_redeemed"] < coupon["max_redemptions"]


def applies_to_products(coupon: Obj) -> list[str] | None:
    """The products a coupon is restricted to, or None when it applies to everything."""
    products = coupon.get("_applies_to_products")
    return list(products) if products else None


def _render_coupon(app: Sandbox, obj: Obj, out: Obj) -> None:
    out["valid"] = coupon_is_valid(app, obj)


def _applies_to(app: Sandbox, obj: Obj) -> Obj:
    return {"products": list(obj.get("_applies_to_products") or [])}


RENDERERS["coupon"] = _render_coupon
VIRTUAL_EXPANDS[("coupon", "applies_to")] = _applies_to  # includable: only present when expanded


def _percent(p: Params) -> float | None:
    raw = p.raw("percent_off")
    if raw is None or raw == "":
        return None
    try:
        value = Decimal(str(raw))
    except InvalidOperation:
        raise invalid("percent_off", f"Invalid decimal: {raw}", "parameter_invalid_decimal") from None
    if not Decimal(0) < value <= Decimal(100):
        raise invalid("percent_off", "percent_off must be greater than 0 and less than or equal to 100.",
                      "parameter_invalid_decimal")
    return float(value)


def _coupon_id(app: Sandbox, p: Params) -> str:
    chosen = p.str("id")
    if chosen is None:
        return "".join(secrets.choice(_ID_ALPHABET) for _ in range(8))
    if not re.fullmatch(r"[A-Za-z0-9_\-]{1,200}", chosen):
        raise invalid("id", "Coupon ids may only contain letters, digits, '-' and '_'.", "parameter_invalid_string")
    if app.store.get(chosen, "coupon") is not None:
        raise StripeError(400, "Coupon already exists.", code="resource_already_exists", param="id")
    return chosen


@api("POST", "/v1/coupons")
def coupons_create(req: Request) -> Obj:
    app, p = req.app, req.p
    p.allow("id", "percent_off", "amount_off", "currency", "duration", "duration_in_months", "max_redemptions",
            "redeem_by", "name", "metadata", "applies_to")
    percent = _percent(p)
    amount = p.amount("amount_off", required=False)
    if percent is None and amount is None:
        raise StripeError(400, "Must provide one of `percent_off` or `amount_off`.", code="parameter_missing",
                          param="percent_off")
    if percent is not None and amount is not None:
        raise invalid("amount_off", "You may only specify one of these parameters: amount_off, percent_off.")
    currency = p.currency(required=amount is not None)
    if currency is not None and amount is None:
        raise invalid("currency", "`currency` can only be passed with `amount_off`.")
    duration = p.str("duration", "once")
    if duration not in DURATIONS:
        raise invalid("duration", "Invalid duration: must be one of forever, once, or repeating",
                      "parameter_invalid_string")
    months = p.int("duration_in_months", minimum=1)
    if duration == "repeating" and months is None:
        raise StripeError(400, "Missing required param: duration_in_months.", code="parameter_missing",
                          param="duration_in_months")
    if duration != "repeating" and months is not None:
        raise invalid("duration_in_months", "`duration_in_months` can only be passed when `duration` is "
                      "`repeating`.")
    redeem_by = p.int("redeem_by")
    if redeem_by is not None and redeem_by <= app.now():
        raise invalid("redeem_by", "Redeem by must be in the future.", "parameter_invalid_integer")
    applies = p.sub("applies_to")
    applies.allow("products")
    products = [app.get("product", pid, f"applies_to[products][{i}]")["id"]
                for i, pid in enumerate(applies.list("products"))]
    name = p.str("name")
    if name is not None and len(name) > 40:
        raise invalid("name", "Coupon names can have at most 40 characters.", "parameter_invalid_string")
    coupon: Obj = {
        "id": _coupon_id(app, p), "object": "coupon", "amount_off": amount, "created": app.now(),
        "currency": currency, "duration": duration, "duration_in_months": months, "livemode": False,
        "max_redemptions": p.int("max_redemptions", minimum=1), "metadata": metadata_update({}, p.raw("metadata")),
        "name": name, "percent_off": percent, "redeem_by": redeem_by, "times_redeemed": 0, "valid": True,
        "_applies_to_products": products,
    }
    app.add(coupon)
    app.emit("coupon.created", coupon)
    return app.render(coupon)


retrieve_route("/v1/coupons/{id}", "coupon")


@api("POST", "/v1/coupons/{id}")
def coupons_update(req: Request) -> Obj:
    """Only ``name`` and ``metadata`` change; amounts and durations are immutable, as on Stripe."""
    app, p = req.app, req.p
    p.allow("name", "metadata")
    coupon = app.get("coupon", req.args["id"])

    def mutate() -> None:
        if "name" in p:
            coupon["name"] = nullable_str(p.raw("name"), "name")
        coupon["metadata"] = metadata_update(coupon["metadata"], p.raw("metadata"))

    return app.render(update_with_event(app, coupon, mutate))


@api("DELETE", "/v1/coupons/{id}")
def coupons_delete(req: Request) -> Obj:
    """Existing discounts keep working; the coupon just cannot be redeemed any more (Stripe's behaviour)."""
    app = req.app
    coupon = app.get("coupon", req.args["id"])
    app.emit("coupon.deleted", coupon)
    coupon["_deleted"] = True
    return app.render(coupon)


@api("GET", "/v1/coupons")
def coupons_list(req: Request) -> Obj:
    return req.app.list_response(req.app.store.all("coupon"), req.p, "/v1/coupons")
