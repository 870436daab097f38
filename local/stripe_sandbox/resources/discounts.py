"""Discounts: a coupon (optionally through a promotion code) applied to a subscription or a Checkout Session,
and the money arithmetic of discounting invoice and session lines.

Arithmetic (all in integer minor units), applied discount after discount in the order given:

* ``percent_off``: every eligible line is discounted by ``round(remaining * percent / 100)``, halves away from
  zero, where ``remaining`` is the line amount minus earlier discounts on it;
* ``amount_off``: ``min(amount_off, sum of the eligible remaining amounts)``, spread over the eligible lines in
  proportion to their remaining amounts (floors, leftover cents to the first lines).

Eligible lines are the positive, ``discountable`` ones whose product the coupon ``applies_to`` (all, if unset).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from ..app import Obj, Sandbox
from ..errors import StripeError, invalid
from ..forms import Params
from ..store import new_id
from .billing_periods import add_interval, round_minor
from .coupons import applies_to_products, coupon_is_valid
from .promotion_codes import check_redeemable

# what a ``discounts[]`` entry asks for: a coupon (maybe through a promotion code) or an existing discount
Requested = tuple[Obj, Obj | None] | Obj


def coupon_of(app: Sandbox, discount: Obj) -> Obj:
    return app.get("coupon", discount["source"]["coupon"], allow_deleted=True)


def check_coupon(app: Sandbox, coupon: Obj, currency: str, param: str) -> None:
    if not coupon_is_valid(app, coupon):
        raise invalid(param, f"Coupon {coupon['id']} is no longer valid.", "coupon_expired")
    if coupon["amount_off"] is not None and coupon["currency"] != currency:
        raise invalid(param, f"The currency of coupon {coupon['id']} ({coupon['currency']}) does not match the "
                      f"currency of this purchase ({currency}).")


def parse_discounts(app: Sandbox, p: Params, key: str, *, customer: str | None, currency: str, subtotal: int,
                    existing: list[str] | None = None) -> list[Requested]:
    """Decode ``discounts[i][coupon|promotion_code|discount]``; ``discounts=""`` is an empty list."""
    requested: list[Requested] = []
    for i, entry in enumerate(p.list(key)):
        dp = Params(entry if isinstance(entry, dict) else {}, f"{key}[{i}]")
        dp.allow("coupon", "promotion_code", "discount")
        given = [k for k in ("coupon", "promotion_code", "discount") if dp.str(k)]
        if len(given) != 1:
            raise invalid(dp.name("coupon"), "Each discount needs exactly one of coupon, promotion_code or "
                          "discount.")
        if given[0] == "discount":
            discount_id = dp.req("discount")
            if discount_id not in (existing or []):
                raise invalid(dp.name("discount"), f"The discount {discount_id} is not applied to this object.",
                              "resource_missing")
            requested.append(app.get("discount", discount_id, dp.name("discount")))
            continue
        promo = None
        if given[0] == "promotion_code":
            promo = app.get("promotion_code", dp.req("promotion_code"), dp.name("promotion_code"))
            check_redeemable(app, promo, customer=customer, currency=currency, subtotal=subtotal,
                             param=dp.name("promotion_code"))
            coupon = app.get("coupon", promo["promotion"]["coupon"], allow_deleted=True)
        else:
            coupon = app.get("coupon", dp.req("coupon"), dp.name("coupon"))
        check_coupon(app, coupon, currency, dp.name(given[0]))
        requested.append((coupon, promo))
    coupons = [r[0]["id"] if isinstance(r, tuple) else r["source"]["coupon"] for r in requested]
    if len(set(coupons)) != len(coupons):
        raise invalid(key, "The same coupon can only be applied once.")
    return requested


def create_discount(app: Sandbox, coupon: Obj, promo: Obj | None, *, start: int, customer: str | None,
                    subscription: str | None = None, checkout_session: str | None = None,
                    redeem: bool = True) -> Obj:
    """A new discount from ``coupon``; counts the redemption (coupon and promotion code) unless not ``redeem``."""
    end = None
    if coupon["duration"] == "repeating":
        end = add_interval(start, "month", 1, int(coupon["duration_in_months"]))
    discount: Obj = {
        "id": new_id("di_"), "object": "discount", "checkout_session": checkout_session, "customer": customer,
        "customer_account": None, "end": end, "invoice": None, "invoice_item": None,
        "promotion_code": promo["id"] if promo else None, "source": {"coupon": coupon["id"], "type": "coupon"},
        "start": start, "subscription": subscription, "subscription_item": None,
    }
    app.add(discount)
    if redeem:
        count_redemption(app, discount)
    return discount


def count_redemption(app: Sandbox, discount: Obj) -> None:
    coupon_of(app, discount)["times_redeemed"] += 1
    if discount["promotion_code"]:
        app.get("promotion_code", discount["promotion_code"])["times_redeemed"] += 1


def materialize(app: Sandbox, requested: list[Requested], *, start: int, customer: str,
                subscription: str) -> list[str]:
    """Discount ids for a subscription: existing discounts kept, new ones created (``customer.discount.created``)."""
    ids = []
    for entry in requested:
        if isinstance(entry, tuple):
            discount = create_discount(app, entry[0], entry[1], start=start, customer=customer,
                                       subscription=subscription)
            app.emit("customer.discount.created", discount)
        else:
            discount = entry
        ids.append(discount["id"])
    return ids


def retire_discounts(app: Sandbox, sub: Obj, invoice: Obj, at: int) -> None:
    """After ``invoice``: drop the subscription's ``once`` discounts it used and the discounts past their end."""
    keep = []
    for discount_id in sub.get("discounts") or []:
        discount = app.get("discount", discount_id)
        used_once = (coupon_of(app, discount)["duration"] == "once" and discount_id in invoice["discounts"]
                     and invoice["subtotal"] > 0)
        if used_once or (discount["end"] is not None and discount["end"] <= at):
            app.emit("customer.discount.deleted", discount)
        else:
            keep.append(discount_id)
    sub["discounts"] = keep


def is_active(discount: Obj, at: int) -> bool:
    return discount["start"] <= at and (discount["end"] is None or at < discount["end"])


def percent_off_total(app: Sandbox, discount_ids: list[str], at: int) -> Decimal:
    """The combined percent-off of the active percent discounts, applied one after the other (for prorations)."""
    keep = Decimal(1)
    for discount_id in discount_ids:
        discount = app.get("discount", discount_id)
        coupon = coupon_of(app, discount)
        if coupon["percent_off"] is not None and is_active(discount, at):
            keep *= 1 - Decimal(str(coupon["percent_off"])) / 100
    return 1 - keep


def allocate(app: Sandbox, lines: list[dict[str, Any]], discounts: list[Obj]) -> list[list[tuple[str, int]]]:
    """Per line, the ``(discount id, amount)`` pairs, by the rules in the module docstring.

    ``lines`` are ``{"amount": int, "product": str | None, "discountable": bool}``.
    """
    remaining = [int(line["amount"]) for line in lines]
    result: list[list[tuple[str, int]]] = [[] for _ in lines]
    for discount in discounts:
        coupon = coupon_of(app, discount)
        products = applies_to_products(coupon)
        eligible = [i for i, line in enumerate(lines) if line["discountable"] and remaining[i] > 0
                    and (products is None or line.get("product") in products)]
        if not eligible:
            continue
        if coupon["percent_off"] is not None:
            percent = Decimal(str(coupon["percent_off"]))
            shares = {i: round_minor(Decimal(remaining[i]) * percent / 100) for i in eligible}
        else:
            base = sum(remaining[i] for i in eligible)
            total = min(int(coupon["amount_off"]), base)
            shares = {i: total * remaining[i] // base for i in eligible}
            leftover = total - sum(shares.values())
            for i in eligible:
                if leftover == 0:
                    break
                if shares[i] < remaining[i]:
                    shares[i] += 1
                    leftover -= 1
        for i, amount in shares.items():
            remaining[i] -= amount
            result[i].append((discount["id"], amount))
    return result


def require_single(requested: list[Requested], key: str) -> None:
    if len(requested) > 1:
        raise StripeError(400, "You may only specify one discount.", param=key)
