"""PaymentMethods (test tokens and card numbers, attach/detach) and SetupIntents."""

from __future__ import annotations

import secrets
import time
from typing import Any

from .. import cards
from ..app import Obj, Sandbox
from ..errors import StripeError, invalid, unexpected_state
from ..forms import metadata_update
from ..router import Request, api, retrieve_route
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


def _billing_details(value: Any) -> Obj:
    bd = value if isinstance(value, dict) else {}
    return {
        "address": address(bd.get("address")) or dict(EMPTY_ADDRESS),
        "email": bd.get("email") or None,
        "name": bd.get("name") or None,
        "phone": bd.get("phone") or None,
        "tax_id": None,
    }


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
@api("POST", "/v1/payment_methods")
def payment_methods_create(req: Request) -> Obj:
    app, p = req.app, req.p
    p.allow("type", "card", "billing_details", "metadata", "allow_redisplay", "customer", "payment_method")
    pm_type = p.req("type")
    if pm_type != "card":
        raise invalid("type", "The sandbox can only create PaymentMethods of type card.",
                      "parameter_invalid_string")
    c = p.sub("card")
    c.allow("number", "exp_month", "exp_year", "cvc", "token")
    if c.str("token"):
        token = c.req("token")
        if token not in cards.TOKENS:
            raise StripeError(400, f"No such token: '{token}'", code="resource_missing", param="card[token]")
        number = cards.TOKENS[token]
        pm = card_payment_method(app, number, billing_details=p.raw("billing_details"))
    elif c.str("number"):
        pm = card_payment_method(app, c.req("number"), c.int("exp_month", required=True) or 0,
                                 c.int("exp_year", required=True), c.str("cvc"), p.raw("billing_details"))
    else:
        raise invalid("card", "Missing required param: card[number].", "parameter_missing")
    pm["metadata"] = metadata_update({}, p.raw("metadata"))
    if p.str("allow_redisplay"):
        pm["allow_redisplay"] = p.str("allow_redisplay")
    return app.render(pm)


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
    if "billing_details" in p:
        bd = p.sub("billing_details")
        for key in ("email", "name", "phone"):
            if key in bd:
                pm["billing_details"][key] = nullable_str(bd.raw(key), f"billing_details[{key}]")
        if "address" in bd:
            pm["billing_details"]["address"] = address(bd.raw("address")) or dict(EMPTY_ADDRESS)
    if "card" in p and pm["type"] == "card":
        c = p.sub("card")
        c.allow("exp_month", "exp_year", "networks")
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
    objs = app.store.all("payment_method")
    customer = p.str("customer")
    if customer:
        app.get("customer", customer, "customer")
    # Stripe lists PaymentMethods attached to a customer; without one it lists nothing useful.
    objs = [o for o in objs if o.get("customer") == customer] if customer else [o for o in objs if o.get("customer")]
    if p.str("type"):
        objs = [o for o in objs if o["type"] == p.str("type")]
    return app.list_response(objs, p, "/v1/payment_methods")


# --------------------------------------------------------------------------- setup intents
def _setup_intent_error(app: Sandbox, si: Obj, pm: Obj, card: cards.TestCard) -> StripeError:
    err = {"code": card.code, "decline_code": card.decline_code, "message": card.message,
           "payment_method": app.render(pm), "type": "card_error",
           "doc_url": f"https://stripe.com/docs/error-codes/{card.code.replace('_', '-')}"}
    si.update(status="requires_payment_method", last_setup_error=err, payment_method=None, next_action=None)
    app.emit("setup_intent.setup_failed", si)
    return card_error(card, {"setup_intent": app.render(si)})


def confirm_setup_intent(app: Sandbox, si: Obj, pm: Obj, return_url: str | None = None) -> Obj:
    customer = app.store.get(si["customer"], "customer") if si.get("customer") else None
    if pm.get("customer") and si.get("customer") != pm["customer"]:
        raise invalid("payment_method", f"The PaymentMethod provided ({pm['id']}) belongs to customer "
                      f"{pm['customer']}. Please include the Customer in the `customer` parameter on the "
                      "SetupIntent.", "payment_method_unexpected_state")
    si["payment_method"] = pm["id"]
    si["last_setup_error"] = None
    card = card_of(pm)
    if card is not None and card.behaviour == cards.DECLINE:
        raise _setup_intent_error(app, si, pm, card)
    if card is not None and card.behaviour in (cards.AUTH_ON_SESSION, cards.AUTH_ALWAYS, cards.AUTH_THEN_DECLINE):
        si["status"] = "requires_action"
        si["next_action"] = {"type": "redirect_to_url", "redirect_to_url": {
            "return_url": return_url, "url": f"{app.base_url}/3ds/{si['id']}"}}
        si["_return_url"] = return_url
        app.emit("setup_intent.requires_action", si)
        return si
    return finish_setup_intent(app, si, pm, customer)


def finish_setup_intent(app: Sandbox, si: Obj, pm: Obj, customer: Obj | None) -> Obj:
    if customer is not None:
        attach(app, pm, customer)
    pm["_setup_off_session"] = True
    si.update(status="succeeded", next_action=None)
    app.emit("setup_intent.succeeded", si)
    return si


def fail_setup_authentication(app: Sandbox, si: Obj) -> Obj:
    pm = app.store.get(si["payment_method"], "payment_method") if si.get("payment_method") else None
    si.update(status="requires_payment_method", next_action=None, payment_method=None, last_setup_error={
        "code": "setup_intent_authentication_failure",
        "doc_url": "https://stripe.com/docs/error-codes/setup-intent-authentication-failure",
        "message": "The latest attempt to set up the payment method has failed because authentication failed.",
        "payment_method": app.render(pm) if pm else None,
        "type": "invalid_request_error",
    })
    app.emit("setup_intent.setup_failed", si)
    return si


@api("POST", "/v1/setup_intents")
def setup_intents_create(req: Request) -> Obj:
    app, p = req.app, req.p
    p.allow("customer", "payment_method", "confirm", "usage", "payment_method_types", "metadata", "description",
            "automatic_payment_methods", "return_url", "payment_method_options", "mandate_data", "use_stripe_sdk")
    customer = app.get("customer", p.req("customer"), "customer") if p.str("customer") else None
    usage = p.str("usage", "off_session")
    if usage not in ("off_session", "on_session"):
        raise invalid("usage", "Invalid usage: must be one of off_session or on_session",
                      "parameter_invalid_string")
    apm = p.sub("automatic_payment_methods")
    si_id = new_id("seti_")
    si: Obj = {
        "id": si_id,
        "object": "setup_intent",
        "application": None,
        "automatic_payment_methods": ({"allow_redirects": apm.str("allow_redirects", "always"), "enabled": True}
                                      if apm.bool("enabled") else None),
        "cancellation_reason": None,
        "client_secret": f"{si_id}_secret_{new_id('', 25)}",
        "created": app.now(),
        "customer": customer["id"] if customer else None,
        "customer_account": None,
        "description": p.str("description"),
        "excluded_payment_method_types": None,
        "flow_directions": None,
        "last_setup_error": None,
        "latest_attempt": None,
        "livemode": False,
        "mandate": None,
        "metadata": metadata_update({}, p.raw("metadata")),
        "next_action": None,
        "on_behalf_of": None,
        "payment_method": None,
        "payment_method_configuration_details": None,
        "payment_method_options": {"card": {"mandate_options": None, "network": None,
                                            "request_three_d_secure": "automatic"}},
        "payment_method_types": [str(t) for t in p.list("payment_method_types")] or ["card"],
        "single_use_mandate": None,
        "status": "requires_payment_method",
        "usage": usage,
    }
    app.add(si)
    app.emit("setup_intent.created", si)
    if p.str("payment_method"):
        pm = resolve_payment_method(app, p.req("payment_method"))
        si["payment_method"] = pm["id"]
        si["status"] = "requires_confirmation"
        if p.bool("confirm"):
            confirm_setup_intent(app, si, pm, p.str("return_url"))
    elif p.bool("confirm"):
        raise invalid("payment_method", "You cannot confirm this SetupIntent because it's missing a payment "
                      "method.", "setup_intent_unexpected_state")
    return app.render(si)


retrieve_route("/v1/setup_intents/{id}", "setup_intent")


@api("POST", "/v1/setup_intents/{id}")
def setup_intents_update(req: Request) -> Obj:
    app, p = req.app, req.p
    p.allow("metadata", "description", "payment_method", "customer")
    si = app.get("setup_intent", req.args["id"])
    if "metadata" in p:
        si["metadata"] = metadata_update(si["metadata"], p.raw("metadata"))
    if "description" in p:
        si["description"] = nullable_str(p.raw("description"), "description")
    if p.str("customer"):
        si["customer"] = app.get("customer", p.req("customer"), "customer")["id"]
    if p.str("payment_method"):
        si["payment_method"] = resolve_payment_method(app, p.req("payment_method"))["id"]
        si["status"] = "requires_confirmation"
    return app.render(si)


@api("POST", "/v1/setup_intents/{id}/confirm")
def setup_intents_confirm(req: Request) -> Obj:
    app, p = req.app, req.p
    p.allow("payment_method", "return_url", "mandate_data", "payment_method_options", "use_stripe_sdk")
    si = app.get("setup_intent", req.args["id"])
    if si["status"] not in ("requires_payment_method", "requires_confirmation"):
        raise unexpected_state(f"You cannot confirm this SetupIntent because it has a status of {si['status']}.",
                               "setup_intent_unexpected_state", {"setup_intent": app.render(si)})
    pm_id = p.str("payment_method") or si.get("payment_method")
    if not pm_id:
        raise invalid("payment_method", "You cannot confirm this SetupIntent because it's missing a payment "
                      "method.", "setup_intent_unexpected_state")
    confirm_setup_intent(app, si, resolve_payment_method(app, pm_id), p.str("return_url"))
    return app.render(si)


@api("POST", "/v1/setup_intents/{id}/cancel")
def setup_intents_cancel(req: Request) -> Obj:
    app, p = req.app, req.p
    p.allow("cancellation_reason")
    si = app.get("setup_intent", req.args["id"])
    if si["status"] in ("succeeded", "canceled"):
        raise unexpected_state(f"You cannot cancel this SetupIntent because it has a status of {si['status']}.",
                               "setup_intent_unexpected_state", {"setup_intent": app.render(si)})
    si.update(status="canceled", cancellation_reason=p.str("cancellation_reason"), next_action=None)
    app.emit("setup_intent.canceled", si)
    return app.render(si)


@api("GET", "/v1/setup_intents")
def setup_intents_list(req: Request) -> Obj:
    app, p = req.app, req.p
    objs = app.store.all("setup_intent")
    if p.str("customer"):
        objs = [o for o in objs if o["customer"] == p.str("customer")]
    if p.str("payment_method"):
        objs = [o for o in objs if o["payment_method"] == p.str("payment_method")]
    return app.list_response(objs, p, "/v1/setup_intents")

