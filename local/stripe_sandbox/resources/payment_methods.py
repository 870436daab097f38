"""PaymentMethods: test tokens and card numbers, attach/detach, list (SetupIntents: setup_intents.py)."""

from __future__ import annotations

import secrets
import time
from typing import Any

from .. import cards
from ..app import Obj, Sandbox
from ..errors import StripeError, invalid
from ..forms import Params, metadata_update
from ..router import Request, api, publishable
from ..store import new_id
from ._util import EMPTY_ADDRESS, address, nullable_str

US_BANK_ACCOUNTS = {  # Stripe's ACH test account numbers -> outcome when the debit settles
    "000123456789": None,
    "000111111113": ("account_closed", "The customer's bank account has been closed."),
    "000111111116": ("no_account", "The customer's bank account could not be located."),
    "000222222227": ("insufficient_funds", "The customer's account has insufficient funds to cover this "
                     "payment."),
    "000333333335": ("debit_not_authorized", "The customer has notified their bank that this payment was "
                     "unauthorized."),
}


def card_error(card: cards.TestCard, extra: dict[str, Any] | None = None) -> StripeError:
    return StripeError(402, card.message, type="card_error", code=card.code, decline_code=card.decline_code,
                       extra=extra)


BILLING_DETAILS = ("address", "email", "name", "phone")


def _billing_details(value: Any) -> Obj:
    bd = value if isinstance(value, dict) else {}
    return {
        "address": address(bd.get("address")) or dict(EMPTY_ADDRESS),
        "email": bd.get("email") or None,
        "name": bd.get("name") or None,
        "phone": bd.get("phone") or None,
        "tax_id": None,
    }


def _check_billing_details(bd: Params) -> None:
    bd.allow(*BILLING_DETAILS)
    bd.sub("address").allow(*EMPTY_ADDRESS)


def card_payment_method(app: Sandbox, number: str, exp_month: int = 12, exp_year: int | None = None,
                        cvc: str | None = None, billing_details: Any = None,
                        metadata: dict[str, str] | None = None, param: str = "card[number]") -> Obj:
    number = number.replace(" ", "").replace("-", "")
    card = cards.lookup(number)
    if card is None:
        raise StripeError(402, "Your card number is incorrect.", type="card_error", code="incorrect_number",
                          param=param)
    if card.decline_code == "test_mode_live_card":
        raise card_error(card)
    exp_year = exp_year if exp_year is not None else time.gmtime().tm_year + 3
    if exp_year < 100:
        exp_year += 2000
    if not 1 <= exp_month <= 12:
        raise StripeError(402, "Your card's expiration month is invalid.", type="card_error",
                          code="invalid_expiry_month", param="card[exp_month]")
    now = time.gmtime()
    if (exp_year, exp_month) < (now.tm_year, now.tm_mon) or exp_year > now.tm_year + 50:
        raise StripeError(402, "Your card's expiration year is invalid.", type="card_error",
                          code="invalid_expiry_year", param="card[exp_year]")
    if cvc is not None and cvc != "" and not (cvc.isdigit() and 3 <= len(cvc) <= 4):
        raise StripeError(402, "Your card's security code is invalid.", type="card_error", code="invalid_cvc",
                          param="card[cvc]")
    pm: Obj = {
        "id": new_id("pm_"),
        "object": "payment_method",
        "allow_redisplay": "unspecified",
        "billing_details": _billing_details(billing_details),
        "card": {
            "brand": card.brand,
            "checks": {"address_line1_check": None, "address_postal_code_check": None,
                       "cvc_check": "pass" if cvc else None},
            "country": card.country,
            "display_brand": card.brand,
            "exp_month": exp_month,
            "exp_year": exp_year,
            "fingerprint": card.fingerprint,
            "funding": card.funding,
            "generated_from": None,
            "last4": card.last4,
            "networks": {"available": [card.brand], "preferred": None},
            "regulated_status": "unregulated",
            "three_d_secure_usage": {"supported": True},
            "wallet": None,
        },
        "created": app.now(),
        "customer": None,
        "customer_account": None,
        "livemode": False,
        "metadata": metadata or {},
        "type": "card",
        "_card_number": card.number,
    }
    return app.add(pm)


def bank_payment_method(app: Sandbox, account_number: str, name: str | None, email: str | None) -> Obj:
    if account_number not in US_BANK_ACCOUNTS:
        raise invalid("account_number", "Use one of Stripe's test bank account numbers: "
                      + ", ".join(US_BANK_ACCOUNTS), "parameter_invalid_string")
    pm: Obj = {
        "id": new_id("pm_"),
        "object": "payment_method",
        "allow_redisplay": "unspecified",
        "billing_details": _billing_details({"name": name, "email": email}),
        "created": app.now(),
        "customer": None,
        "customer_account": None,
        "livemode": False,
        "metadata": {},
        "type": "us_bank_account",
        "us_bank_account": {
            "account_holder_type": "individual",
            "account_type": "checking",
            "bank_name": "STRIPE TEST BANK",
            "financial_connections_account": None,
            "fingerprint": secrets.token_hex(8),
            "last4": account_number[-4:],
            "networks": {"preferred": "ach", "supported": ["ach"]},
            "routing_number": "110000000",
            "status_details": {},
        },
        "_account_number": account_number,
    }
    return app.add(pm)


def resolve_payment_method(app: Sandbox, pm_id: Any, param: str = "payment_method") -> Obj:
    """A PaymentMethod by id; Stripe's test ids (``pm_card_visa``…) create a fresh PaymentMethod."""
    if isinstance(pm_id, str) and pm_id in cards.PM_TOKENS:
        return card_payment_method(app, cards.PM_TOKENS[pm_id])
    return app.get("payment_method", pm_id, param)


def card_of(pm: Obj) -> cards.TestCard | None:
    number = pm.get("_card_number")
    return cards.lookup(number) if number else None


def attach(app: Sandbox, pm: Obj, customer: Obj) -> Obj:
    if pm.get("customer") == customer["id"]:
        return pm
    if pm.get("customer"):
        raise invalid("payment_method", "The payment method you provided has already been attached to a "
                      "customer.", "payment_method_unexpected_state")
    if pm.get("_consumed"):
        raise invalid("payment_method", "This PaymentMethod was previously used without being attached to a "
                      "Customer or was detached from a Customer, and may not be used again.",
                      "payment_method_unexpected_state")
    card = card_of(pm)
    if card is not None and card.behaviour == cards.DECLINE:
        raise card_error(card)
    pm["customer"] = customer["id"]
    app.emit("payment_method.attached", pm)
    return pm


def detach(app: Sandbox, pm: Obj) -> Obj:
    if not pm.get("customer"):
        raise invalid("payment_method", "The payment method you provided is not attached to a customer so "
                      "detachment is impossible.", "payment_method_unexpected_state")
    customer = app.store.get(pm["customer"], "customer")
    if customer and customer["invoice_settings"]["default_payment_method"] == pm["id"]:
        before = app.render(customer)
        customer["invoice_settings"]["default_payment_method"] = None
        app.emit("customer.updated", customer, {"invoice_settings": before["invoice_settings"]})
    pm["customer"] = None
    pm["_consumed"] = True
    app.emit("payment_method.detached", pm, {"customer": customer["id"] if customer else None})
    return pm


# -------------------------------------------------------------------------------- routes
PM_DATA = ("type", "card", "billing_details", "metadata", "allow_redisplay")
REDISPLAY = ("always", "limited", "unspecified")


def payment_method_from_params(app: Sandbox, p: Params) -> Obj:
    """A card PaymentMethod from ``POST /v1/payment_methods`` parameters or an intent's ``payment_method_data``."""
    p.allow(*PM_DATA)
    pm_type = p.req("type")
    if pm_type != "card":
        raise invalid(p.name("type"), "The sandbox can only create PaymentMethods of type card.",
                      "parameter_invalid_string")
    c = p.sub("card")
    c.allow("number", "exp_month", "exp_year", "cvc", "token")
    _check_billing_details(p.sub("billing_details"))
    redisplay = p.str("allow_redisplay", "unspecified")
    if redisplay not in REDISPLAY:
        raise invalid(p.name("allow_redisplay"), "Invalid allow_redisplay: must be one of always, limited or "
                      "unspecified", "parameter_invalid_string")
    metadata = metadata_update({}, p.raw("metadata"), p.name("metadata"))
    if c.str("token"):
        token = c.req("token")
        if token not in cards.TOKENS:
            raise StripeError(400, f"No such token: '{token}'", code="resource_missing", param=c.name("token"))
        pm = card_payment_method(app, cards.TOKENS[token], billing_details=p.raw("billing_details"))
    elif c.str("number"):
        pm = card_payment_method(app, c.req("number"), c.int("exp_month", required=True) or 0,
                                 c.int("exp_year", required=True), c.str("cvc"), p.raw("billing_details"),
                                 param=c.name("number"))
    else:
        raise invalid(p.name("card"), f"Missing required param: {c.name('number')}.", "parameter_missing")
    pm["metadata"] = metadata
    pm["allow_redisplay"] = redisplay
    return pm


def payment_method_param(app: Sandbox, p: Params) -> Obj | None:
    """An intent's ``payment_method`` (an id or a ``pm_card_*`` test id) or ``payment_method_data`` (a new card)."""
    if p.str("payment_method") and "payment_method_data" in p:
        raise invalid("payment_method_data", "You may only specify one of these parameters: payment_method, "
                      "payment_method_data.")
    if "payment_method_data" in p:
        return payment_method_from_params(app, p.sub("payment_method_data"))
    if p.str("payment_method"):
        return resolve_payment_method(app, p.req("payment_method"))
    return None


# Stripe.js creates PaymentMethods with the publishable key (stripe.createPaymentMethod)
@publishable("POST", "/v1/payment_methods")
def payment_methods_create(req: Request) -> Obj:
    return req.app.render(payment_method_from_params(req.app, req.p))


@api("GET", "/v1/payment_methods/{id}")
def payment_methods_retrieve(req: Request) -> Obj:
    return req.app.render(resolve_payment_method(req.app, req.args["id"], "id"))


@api("POST", "/v1/payment_methods/{id}")
def payment_methods_update(req: Request) -> Obj:
    app, p = req.app, req.p
    p.allow("billing_details", "metadata", "card", "allow_redisplay")
    pm = app.get("payment_method", req.args["id"])
    before = app.render(pm)
    if "metadata" in p:
        pm["metadata"] = metadata_update(pm["metadata"], p.raw("metadata"))
    if "allow_redisplay" in p:
        redisplay = p.req("allow_redisplay")
        if redisplay not in REDISPLAY:
            raise invalid("allow_redisplay", "Invalid allow_redisplay: must be one of always, limited or "
                          "unspecified", "parameter_invalid_string")
        pm["allow_redisplay"] = redisplay
    if "billing_details" in p:
        bd = p.sub("billing_details")
        _check_billing_details(bd)
        for key in ("email", "name", "phone"):
            if key in bd:
                pm["billing_details"][key] = nullable_str(bd.raw(key), f"billing_details[{key}]")
        if "address" in bd:
            pm["billing_details"]["address"] = address(bd.raw("address")) or dict(EMPTY_ADDRESS)
    if "card" in p and pm["type"] == "card":
        c = p.sub("card")
        c.allow("exp_month", "exp_year")
        for key in ("exp_month", "exp_year"):
            value = c.int(key)
            if value is not None:
                pm["card"][key] = value
    after = app.render(pm)
    changed = {k: before[k] for k in before if before[k] != after.get(k)}
    if changed:
        app.emit("payment_method.updated", pm, changed)
    return after


@api("POST", "/v1/payment_methods/{id}/attach")
def payment_methods_attach(req: Request) -> Obj:
    app, p = req.app, req.p
    p.allow("customer")
    pm = resolve_payment_method(app, req.args["id"], "id")
    customer = app.get("customer", p.req("customer"), "customer")
    return app.render(attach(app, pm, customer))


@api("POST", "/v1/payment_methods/{id}/detach")
def payment_methods_detach(req: Request) -> Obj:
    req.p.allow()
    return req.app.render(detach(req.app, req.app.get("payment_method", req.args["id"])))


@api("GET", "/v1/payment_methods")
def payment_methods_list(req: Request) -> Obj:
    app, p = req.app, req.p
    p.allow("customer", "type", "created", "limit", "starting_after", "ending_before")
    objs = app.store.all("payment_method")
    customer = p.str("customer")
    if customer:
        app.get("customer", customer, "customer")
    # Stripe lists PaymentMethods attached to a customer; without one it lists nothing useful.
    objs = [o for o in objs if o.get("customer") == customer] if customer else [o for o in objs if o.get("customer")]
    if p.str("type"):
        objs = [o for o in objs if o["type"] == p.str("type")]
    return app.list_response(objs, p, "/v1/payment_methods")


# ------------------------------------------------------------------------------ card options
THREE_D_SECURE = ("automatic", "any", "challenge")


def three_d_secure_request(p: Params) -> str | None:
    """``payment_method_options[card][request_three_d_secure]``, the one card option the sandbox acts on."""
    if "payment_method_options" not in p:
        return None
    options = p.sub("payment_method_options")
    options.allow("card")
    card = options.sub("card")
    card.allow("request_three_d_secure")
    value = card.str("request_three_d_secure")
    if value is not None and value not in THREE_D_SECURE:
        raise invalid(card.name("request_three_d_secure"), "Invalid request_three_d_secure: must be one of "
                      "automatic, any or challenge", "parameter_invalid_string")
    return value


def challenge_requested(intent: Obj) -> bool:
    """``any`` / ``challenge`` ask for 3-D Secure even on cards that would not need it."""
    return intent["payment_method_options"]["card"]["request_three_d_secure"] in ("any", "challenge")
