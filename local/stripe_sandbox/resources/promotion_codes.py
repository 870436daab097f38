"""Promotion codes (``/v1/promotion_codes``): customer-facing codes for a coupon, with restrictions.

:func:`check_redeemable` is the one place that decides whether a code may be redeemed (Checkout's code field,
``discounts[][promotion_code]`` on sessions, subscriptions and previews).
"""

from __future__ import annotations

import re
import secrets
import string

from ..app import Obj, Sandbox
from ..errors import StripeError, invalid
from ..forms import metadata_update
from ..router import Request, api, retrieve_route
from ..store import new_id
from ._util import update_with_event
from .coupons import coupon_is_valid

_CODE_ALPHABET = string.ascii_uppercase + string.digits


def _money(amount: int, currency: str) -> str:
    return f"{amount / 100:.2f} {currency.upper()}"


def _active_duplicate(app: Sandbox, code: str, customer: str | None, exclude: str | None = None) -> bool:
    return any(o["active"] and o["code"].lower() == code.lower() and o["customer"] == customer
               and o["id"] != exclude for o in app.store.all("promotion_code"))


def find_by_code(app: Sandbox, code: str) -> Obj | None:
    """The active promotion code with this code (case-insensitive), as a customer types it."""
    code = code.strip().lower()
    return next((o for o in app.store.all("promotion_code") if o["active"] and o["code"].lower() == code), None)


def has_prior_transactions(app: Sandbox, customer_id: str) -> bool:
    paid_charge = any(c.get("customer") == customer_id and c["status"] == "succeeded"
                      for c in app.store.all("charge"))
    paid_invoice = any(i["customer"] == customer_id and i["status"] == "paid" and i["amount_paid"] > 0
                       for i in app.store.all("invoice"))
    return paid_charge or paid_invoice


def check_redeemable(app: Sandbox, promo: Obj, *, customer: str | None, currency: str, subtotal: int,
                     param: str) -> None:
    """Raise Stripe's 400 when ``promo`` cannot be redeemed for this purchase."""
    def refuse(message: str) -> StripeError:
        return StripeError(400, message, code="promotion_code_invalid" if promo["active"] else
                           "promotion_code_inactive", param=param)

    if not promo["active"]:
        raise refuse("This promotion code is inactive.")
    if promo["expires_at"] is not None and app.now() >= promo["expires_at"]:
        raise refuse("This promotion code has expired.")
    if promo["max_redemptions"] is not None and promo["times_redeemed"] >= promo["max_redemptions"]:
        raise refuse("This promotion code has been redeemed the maximum number of times.")
    coupon = app.get("coupon", promo["promotion"]["coupon"], allow_deleted=True)
    if not coupon_is_valid(app, coupon):
        raise refuse("This promotion code's coupon is no longer valid.")
    if promo["customer"] is not None and promo["customer"] != customer:
        raise refuse("This promotion code cannot be redeemed by this customer.")
    restrictions = promo["restrictions"]
    if restrictions["first_time_transaction"] and customer and has_prior_transactions(app, customer):
        raise refuse("This promotion code cannot be redeemed because the associated customer has prior "
                     "transactions.")
    minimum = restrictions["minimum_amount"]
    if minimum is not None:
        if restrictions["minimum_amount_currency"] != currency:
            raise refuse(f"This promotion code only applies to purchases in "
                         f"{restrictions['minimum_amount_currency'].upper()}.")
        if subtotal < minimum:
            raise refuse(f"This promotion code requires a minimum purchase of "
                         f"{_money(minimum, currency)}.")


def _code(app: Sandbox, value: str | None, customer: str | None) -> str:
    if value is None:
        return "".join(secrets.choice(_CODE_ALPHABET) for _ in range(8))
    if not re.fullmatch(r"[A-Za-z0-9]{1,500}", value):
        raise invalid("code", "Promotion codes may only contain letters (a-z, A-Z) and digits (0-9).",
                      "parameter_invalid_string")
    if _active_duplicate(app, value, customer):
        raise StripeError(400, f"A promotion code with code `{value}` already exists.",
                          code="resource_already_exists", param="code")
    return value


@api("POST", "/v1/promotion_codes")
def promotion_codes_create(req: Request) -> Obj:
    app, p = req.app, req.p
    p.allow("promotion", "code", "customer", "expires_at", "max_redemptions", "active", "restrictions", "metadata")
    promotion = p.sub("promotion")
    promotion.allow("type", "coupon")
    if promotion.req("type") != "coupon":
        raise invalid("promotion[type]", "Invalid promotion[type]: must be coupon", "parameter_invalid_string")
    coupon = app.get("coupon", promotion.req("coupon"), "promotion[coupon]")
    if not coupon_is_valid(app, coupon):
        raise invalid("promotion[coupon]", f"Coupon {coupon['id']} is no longer valid and cannot be used to create "
                      "a promotion code.", "coupon_expired")
    customer = app.get("customer", p.req("customer"), "customer")["id"] if p.str("customer") else None
    expires_at = p.int("expires_at")
    if expires_at is not None:
        if expires_at <= app.now():
            raise invalid("expires_at", "expires_at must be in the future.", "parameter_invalid_integer")
        if coupon["redeem_by"] is not None and expires_at > coupon["redeem_by"]:
            raise invalid("expires_at", "expires_at cannot be later than the coupon's redeem_by.",
                          "parameter_invalid_integer")
    rp = p.sub("restrictions")
    rp.allow("first_time_transaction", "minimum_amount", "minimum_amount_currency")
    minimum = rp.amount("minimum_amount", required=False)
    minimum_currency = rp.currency("minimum_amount_currency", required=minimum is not None)
    if minimum_currency is not None and minimum is None:
        raise invalid("restrictions[minimum_amount_currency]", "`minimum_amount_currency` requires "
                      "`minimum_amount`.")
    promo: Obj = {
        "id": new_id("promo_"), "object": "promotion_code", "active": bool(p.bool("active", True)),
        "code": _code(app, p.str("code"), customer), "created": app.now(), "customer": customer,
        "customer_account": None, "expires_at": expires_at, "livemode": False,
        "max_redemptions": p.int("max_redemptions", minimum=1), "metadata": metadata_update({}, p.raw("metadata")),
        "promotion": {"coupon": coupon["id"], "type": "coupon"},
        "restrictions": {"currency_options": {}, "first_time_transaction": bool(rp.bool("first_time_transaction",
                                                                                       False)),
                         "minimum_amount": minimum, "minimum_amount_currency": minimum_currency},
        "times_redeemed": 0,
    }
    app.add(promo)
    app.emit("promotion_code.created", promo)
    return app.render(promo)


retrieve_route("/v1/promotion_codes/{id}", "promotion_code")


@api("POST", "/v1/promotion_codes/{id}")
def promotion_codes_update(req: Request) -> Obj:
    app, p = req.app, req.p
    p.allow("active", "metadata")
    promo = app.get("promotion_code", req.args["id"])
    active = p.bool("active")
    if active and not promo["active"] and _active_duplicate(app, promo["code"], promo["customer"], promo["id"]):
        raise invalid("active", f"Another active promotion code already uses the code `{promo['code']}`.")

    def mutate() -> None:
        if active is not None:
            promo["active"] = active
        promo["metadata"] = metadata_update(promo["metadata"], p.raw("metadata"))

    return app.render(update_with_event(app, promo, mutate))


@api("GET", "/v1/promotion_codes")
def promotion_codes_list(req: Request) -> Obj:
    app, p = req.app, req.p
    objs = app.store.all("promotion_code")
    active = p.bool("active")
    if active is not None:
        objs = [o for o in objs if o["active"] == active]
    code = p.str("code")
    if code:
        objs = [o for o in objs if o["code"].lower() == code.lower()]
    coupon = p.str("coupon")
    if coupon:
        objs = [o for o in objs if o["promotion"]["coupon"] == coupon]
    customer = p.str("customer")
    if customer:
        objs = [o for o in objs if o["customer"] == customer]
    return app.list_response(objs, p, "/v1/promotion_codes")
