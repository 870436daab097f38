"""Discounts on Checkout Sessions: ``discounts[0][coupon|promotion_code]`` at creation, or a promotion code the
customer types on the hosted page when ``allow_promotion_codes=true`` (also ``POST /_sandbox/checkout/sessions/
{id}/promotion_code``).

The session carries one discount object (``checkout_session`` set); its line items get ``amount_discount`` and
``discounts[]``, the session ``total_details.amount_discount`` and a lower ``amount_total``, computed like an
invoice's (``resources/discounts.py``). The redemption counts when the session completes: in payment mode the
session's discount, in subscription mode the subscription's own discount made from the same coupon / code.
"""

from __future__ import annotations

from ..app import Obj, Sandbox
from ..errors import StripeError, invalid, unexpected_state
from ..forms import Params
from ..router import Request, control
from .coupons import applies_to_products
from .discounts import Requested, allocate, count_redemption, create_discount, parse_discounts, require_single
from .payment_intents import MINIMUMS
from .promotion_codes import check_redeemable, find_by_code


def _subtotal(session: Obj) -> int:
    return sum(item["amount_subtotal"] for item in session["_line_items"])


def _products(app: Sandbox, session: Obj) -> list[str]:
    return [app.get("price", item["_price"])["product"] for item in session["_line_items"]]


def _recompute(app: Sandbox, session: Obj) -> None:
    """Line and session amounts for the session's discount (or none)."""
    discount = app.get("discount", session["_discount"]) if session.get("_discount") else None
    lines = [{"amount": item["amount_subtotal"], "product": product, "discountable": True}
             for item, product in zip(session["_line_items"], _products(app, session), strict=True)]
    shares = allocate(app, lines, [discount] if discount else [])
    for item, line_shares in zip(session["_line_items"], shares, strict=True):
        off = sum(amount for _, amount in line_shares)
        item.update(amount_discount=off, amount_total=item["amount_subtotal"] - off)
        item["discounts"] = [{"amount": amount, "discount": app.render(discount)} for _, amount in line_shares
                             if discount is not None]
    total_off = sum(item["amount_discount"] for item in session["_line_items"])
    session.update(amount_subtotal=_subtotal(session), amount_total=_subtotal(session) - total_off)
    session["total_details"]["amount_discount"] = total_off


def _attach(app: Sandbox, session: Obj, coupon: Obj, promo: Obj | None, param: str) -> None:
    products = applies_to_products(coupon)
    if products is not None and not set(products) & set(_products(app, session)):
        raise invalid(param, "This code is not valid for the items in this session.", "promotion_code_invalid"
                      if promo else "coupon_expired")
    discount = create_discount(app, coupon, promo, start=app.now(), customer=session.get("customer"),
                               checkout_session=session["id"], redeem=False)
    previous = session.get("_discount")
    session["_discount"] = discount["id"]
    session["discounts"] = [{"coupon": coupon["id"], "promotion_code": promo["id"] if promo else None}]
    _recompute(app, session)
    minimum = MINIMUMS.get(session["currency"], 1)
    if session["mode"] == "payment" and session["amount_total"] < minimum:
        session["_discount"] = previous
        session["discounts"] = [] if previous is None else session["discounts"]
        _recompute(app, session)
        raise invalid(param, "With this discount the total is below the minimum charge amount; the sandbox cannot "
                      "complete payment-mode sessions without a payment.", "amount_too_small")


def apply_creation_discounts(app: Sandbox, session: Obj, p: Params) -> None:
    """``discounts`` / ``allow_promotion_codes`` of ``POST /v1/checkout/sessions`` (before the session is added)."""
    allow = p.bool("allow_promotion_codes")
    if allow and "discounts" in p:
        raise invalid("allow_promotion_codes", "You may only specify one of these parameters: allow_promotion_codes, "
                      "discounts.")
    session["allow_promotion_codes"] = True if allow else None
    requested = parse_discounts(app, p, "discounts", customer=session.get("customer"), currency=session["currency"],
                                subtotal=_subtotal(session))
    require_single(requested, "discounts")
    for entry in requested:
        if not isinstance(entry, tuple):
            raise invalid("discounts[0][discount]", "A Checkout Session cannot reuse an existing discount.")
        _attach(app, session, entry[0], entry[1], "discounts[0]")


def apply_promotion_code(app: Sandbox, session: Obj, code: str | None) -> None:
    """The hosted page's promotion-code field: apply ``code``, or remove the applied code when None/empty."""
    if session["status"] != "open":
        raise unexpected_state("This Checkout Session is no longer open.", "checkout_session_unexpected_state")
    if not session.get("allow_promotion_codes"):
        raise invalid("promotion_code", "This Checkout Session does not accept promotion codes "
                      "(allow_promotion_codes is not set).")
    if not code or not code.strip():
        session.update(_discount=None, discounts=[])
        _recompute(app, session)
        return
    promo = find_by_code(app, code)
    if promo is None:
        raise StripeError(400, "This code is invalid.", code="promotion_code_invalid", param="promotion_code")
    check_redeemable(app, promo, customer=session.get("customer"), currency=session["currency"],
                     subtotal=_subtotal(session), param="promotion_code")
    coupon = app.get("coupon", promo["promotion"]["coupon"], allow_deleted=True)
    _attach(app, session, coupon, promo, "promotion_code")


def subscription_discounts(app: Sandbox, session: Obj) -> list[Requested]:
    """What the subscription a subscription-mode session creates is discounted by (the same coupon / code)."""
    if not session.get("_discount"):
        return []
    discount = app.get("discount", session["_discount"])
    promo = app.get("promotion_code", discount["promotion_code"]) if discount["promotion_code"] else None
    return [(app.get("coupon", discount["source"]["coupon"], allow_deleted=True), promo)]


def redeem_payment_discount(app: Sandbox, session: Obj) -> None:
    """A completed payment-mode session redeems its discount (subscription mode redeems through the subscription)."""
    if session["mode"] == "payment" and session.get("_discount"):
        discount = app.get("discount", session["_discount"])
        discount["customer"] = session.get("customer")
        count_redemption(app, discount)


def applied_code(app: Sandbox, session: Obj) -> str | None:
    """The promotion code shown on the hosted page, if one is applied."""
    discount = app.get("discount", session["_discount"]) if session.get("_discount") else None
    if discount is None or not discount["promotion_code"]:
        return None
    return str(app.get("promotion_code", discount["promotion_code"])["code"])


@control("POST", "/_sandbox/checkout/sessions/{id}/promotion_code")
def promotion_code_control(req: Request) -> Obj:
    """Type a code into the hosted page's promotion-code field (``{"code": null}`` removes it)."""
    app = req.app
    session = app.get("checkout.session", req.args["id"])
    body = req.json if isinstance(req.json, dict) else {}
    apply_promotion_code(app, session, body.get("code"))
    return app.render(session)
