"""Checkout Sessions: creation, hosted-page completion, expiry, line items.

:func:`complete_session` is the one code path used by the hosted page form
(``POST /c/pay/{id}``) and by the test-control route
(``POST /_sandbox/checkout/sessions/{id}/complete``).
"""

from __future__ import annotations

import re
from typing import Any

from .. import cards
from ..app import SWEEPERS, VIRTUAL_EXPANDS, Obj, Sandbox
from ..errors import StripeError, invalid, unexpected_state
from ..forms import Params, metadata_update
from ..router import Request, api, retrieve_route
from ..store import new_id
from . import payment_intents as pis
from .checkout_discounts import apply_creation_discounts, redeem_payment_discount, subscription_discounts
from .checkout_options import refuse_unsupported_options
from .checkout_setup import check_setup_params, confirm_setup_session, prepare_setup_session, release_setup_intent
from .connect_accounts import destination_account
from .customers import create_customer
from .intent_options import capture_method, setup_future_usage
from .payment_methods import attach, bank_payment_method, card_payment_method
from .setup_intents import ON_SETUP_SUCCEEDED
from .subscriptions_invoices import create_subscription

DAY = 24 * 3600
EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
URL_RE = re.compile(r"^https?://\S+$")


def _render_item(app: Sandbox, item: Obj) -> Obj:
    out = {k: v for k, v in item.items() if not k.startswith("_")}
    out["price"] = app.render(app.get("price", item["_price"]))
    return out


def line_items(app: Sandbox, session: Obj) -> Obj:
    items = session["_line_items"]
    return {"object": "list", "data": [_render_item(app, i) for i in items], "has_more": False,
            "url": f"/v1/checkout/sessions/{session['id']}/line_items"}


VIRTUAL_EXPANDS[("checkout.session", "line_items")] = line_items


def _parse_line_items(app: Sandbox, p: Params, mode: str) -> list[Obj]:
    raw = p.list("line_items")
    if not raw:
        raise StripeError(400, "Missing required param: line_items.", code="parameter_missing", param="line_items")
    items = []
    for i, entry in enumerate(raw):
        lp = Params(entry if isinstance(entry, dict) else {}, f"line_items[{i}]")
        lp.allow("price", "price_data", "quantity", "adjustable_quantity", "tax_rates", "dynamic_tax_rates",
                 "metadata")
        if "price_data" in lp:
            from .products_prices import create_price

            pd = lp.sub("price_data")
            pd.allow("currency", "unit_amount", "unit_amount_decimal", "product", "product_data", "recurring",
                     "tax_behavior")
            price = create_price(app, pd)
            price["active"] = False  # ad-hoc prices are not reusable, as on Stripe
        else:
            price = app.get("price", lp.req("price"), f"line_items[{i}][price]")
            if not price["active"]:
                raise invalid(f"line_items[{i}][price]", "The price specified is inactive. This field only "
                              "accepts active prices.")
        quantity = lp.int("quantity", required=True, minimum=1)
        assert quantity is not None
        if mode == "payment" and price["recurring"]:
            raise invalid("line_items", "You specified `payment` mode but passed a recurring price. Either "
                          "switch to `subscription` mode or use only one-time prices.")
        product = app.get("product", price["product"])
        amount = price["unit_amount"] * quantity
        items.append({
            "id": new_id("li_"), "object": "item", "adjustable_quantity": None, "amount_discount": 0,
            "amount_subtotal": amount, "amount_tax": 0, "amount_total": amount, "currency": price["currency"],
            "description": product["name"], "metadata": metadata_update({}, lp.raw("metadata")),
            "quantity": quantity, "_price": price["id"],
        })
    if len({i["currency"] for i in items}) > 1:
        raise invalid("line_items", "All line items must use the same currency.")
    if mode == "subscription" and not any(app.get("price", i["_price"])["recurring"] for i in items):
        raise invalid("line_items", "You must specify at least one recurring price in `subscription` mode when "
                      "using prices.")
    return items


PI_DATA_KEYS = ("metadata", "description", "setup_future_usage", "application_fee_amount", "transfer_data",
                "transfer_group", "receipt_email", "statement_descriptor", "statement_descriptor_suffix",
                "capture_method")


@api("POST", "/v1/checkout/sessions")
def sessions_create(req: Request) -> Obj:
    app, p = req.app, req.p
    # custom_text, consent_collection, saved_payment_method_options... are unknown: the page has none of them
    p.allow("mode", "line_items", "success_url", "cancel_url", "customer", "customer_email", "customer_creation",
            "metadata", "client_reference_id", "payment_intent_data", "subscription_data", "setup_intent_data",
            "expires_at", "payment_method_types", "locale", "allow_promotion_codes", "billing_address_collection",
            "submit_type", "ui_mode", "phone_number_collection", "payment_method_collection", "automatic_tax",
            "invoice_creation", "currency", "discounts")
    mode = p.req("mode")
    if mode not in ("payment", "subscription", "setup"):
        raise invalid("mode", "Invalid mode: must be one of payment, setup, or subscription",
                      "parameter_invalid_string")
    if mode == "setup":
        check_setup_params(p)
    if p.str("ui_mode", "hosted") != "hosted":
        raise invalid("ui_mode", "The Stripe sandbox only supports ui_mode=hosted.", "parameter_invalid_string")
    for key in ("success_url", "cancel_url"):
        url = p.str(key)
        if url is not None and not URL_RE.match(url):
            raise invalid(key, "Not a valid URL", "url_invalid")
    customer_id, customer_email = p.str("customer"), p.str("customer_email")
    if customer_id and customer_email:
        raise invalid("customer_email", "You may only specify one of these parameters: customer, customer_email.")
    customer = app.get("customer", customer_id, "customer") if customer_id else None
    creation = p.str("customer_creation")
    if creation is not None:
        if creation not in ("always", "if_required"):
            raise invalid("customer_creation", "Invalid customer_creation", "parameter_invalid_string")
        if mode == "subscription":
            raise invalid("customer_creation", "`customer_creation` can only be used in `payment` and `setup` "
                          "mode.")
        if customer:
            raise invalid("customer_creation", "You may only specify one of these parameters: customer, "
                          "customer_creation.")
    elif mode != "subscription" and not customer:
        creation = "if_required"
    items = _parse_line_items(app, p, mode) if mode != "setup" else []
    refuse_unsupported_options(p, mode, items[0]["currency"] if items else None)
    now = app.now()
    expires_at = p.int("expires_at", now + DAY)
    assert expires_at is not None
    if expires_at < now + 1800 or expires_at > now + DAY:
        raise invalid("expires_at", "The `expires_at` timestamp must be between 30 minutes and 24 hours from "
                      "Checkout Session creation.", "parameter_invalid_integer")
    pi_data = p.sub("payment_intent_data")
    sub_data = p.sub("subscription_data")
    if "payment_intent_data" in p:
        if mode != "payment":
            raise invalid("payment_intent_data", "You can not pass `payment_intent_data` in `subscription` mode.")
        pi_data.allow(*PI_DATA_KEYS)
        if "transfer_data" in pi_data:
            transfer_data = pi_data.sub("transfer_data")
            transfer_data.allow("destination")
            destination_account(app, transfer_data.req("destination"), transfer_data.name("destination"))
        capture_method(pi_data)
        setup_future_usage(pi_data)
        if pi_data.raw("application_fee_amount") and "transfer_data" not in pi_data and \
                not req.headers.get("stripe-account"):
            raise invalid("payment_intent_data[application_fee_amount]", "Can only apply an application_fee_amount "
                          "when the PaymentIntent is attempting a direct payment (using an OAuth key or "
                          "Stripe-Account header) or destination payment (using `transfer_data[destination]`).")
    if "subscription_data" in p:
        if mode != "subscription":
            raise invalid("subscription_data", "You can only pass `subscription_data` in `subscription` mode.")
        sub_data.allow("metadata", "description")
    session_id = new_id("cs_test_", 58)
    total = sum(i["amount_total"] for i in items)
    session: Obj = {
        "id": session_id, "object": "checkout.session", "adaptive_pricing": {"enabled": False},
        "after_expiration": None, "allow_promotion_codes": None, "amount_subtotal": total, "amount_total": total,
        "automatic_tax": {"enabled": False, "liability": None, "provider": None, "status": None},
        "billing_address_collection": p.str("billing_address_collection"), "cancel_url": p.str("cancel_url"),
        "client_reference_id": p.str("client_reference_id"), "client_secret": None, "collected_information": None,
        "consent": None, "consent_collection": None, "created": now,
        "currency": items[0]["currency"] if items else p.currency(required=False),
        "currency_conversion": None, "custom_fields": [],
        "custom_text": {"after_submit": None, "shipping_address": None, "submit": None,
                        "terms_of_service_acceptance": None},
        "customer": customer["id"] if customer else None, "customer_account": None, "customer_creation": creation,
        "customer_details": ({"address": None, "business_name": None, "email": customer["email"],
                              "individual_name": None, "name": customer["name"], "phone": None,
                              "tax_exempt": "none", "tax_ids": []} if customer else None),
        "customer_email": customer_email, "discounts": [], "expires_at": expires_at,
        "integration_identifier": None, "invoice": None,
        "invoice_creation": ({"enabled": False, "invoice_data": {
            "account_tax_ids": None, "custom_fields": None, "description": None, "footer": None, "issuer": None,
            "metadata": {}, "rendering_options": None}} if mode == "payment" else None),
        "livemode": False, "locale": p.str("locale"), "managed_payments": None,
        "metadata": metadata_update({}, p.raw("metadata")), "mode": mode, "origin_context": None,
        "payment_intent": None, "payment_link": None,
        "payment_method_collection": "always" if mode == "subscription" else None,
        "payment_method_configuration_details": None,
        "payment_method_options": {"card": {"request_three_d_secure": "automatic"}},
        "payment_method_types": [str(t) for t in p.list("payment_method_types")] or ["card"],
        "payment_status": "unpaid", "permissions": None, "phone_number_collection": {"enabled": False},
        "recovered_from": None, "saved_payment_method_options": None, "setup_intent": None,
        "shipping_address_collection": None, "shipping_cost": None, "shipping_options": [], "status": "open",
        "submit_type": p.str("submit_type"), "subscription": None, "success_url": p.str("success_url"),
        "total_details": {"amount_discount": 0, "amount_shipping": 0, "amount_tax": 0}, "ui_mode": "hosted",
        "url": f"{app.base_url}/c/pay/{session_id}", "wallet_options": None,
        "_line_items": items, "_pi_data": pi_data.data, "_sub_data": sub_data.data,
    }
    apply_creation_discounts(app, session, p)
    app.add(session)
    if mode == "setup":
        prepare_setup_session(app, session, p)
    return app.render(session)


retrieve_route("/v1/checkout/sessions/{id}", "checkout.session")


@api("POST", "/v1/checkout/sessions/{id}")
def sessions_update(req: Request) -> Obj:
    app, p = req.app, req.p
    p.allow("metadata")
    session = app.get("checkout.session", req.args["id"])
    session["metadata"] = metadata_update(session["metadata"], p.raw("metadata"))
    return app.render(session)


@api("GET", "/v1/checkout/sessions")
def sessions_list(req: Request) -> Obj:
    app, p = req.app, req.p
    objs = app.store.all("checkout.session")
    for key in ("customer", "payment_intent", "subscription", "status", "payment_link"):
        if p.str(key):
            objs = [o for o in objs if o.get(key) == p.str(key)]
    email = p.sub("customer_details").str("email")
    if email:
        objs = [o for o in objs if (o.get("customer_details") or {}).get("email") == email]
    return app.list_response(objs, p, "/v1/checkout/sessions")


@api("GET", "/v1/checkout/sessions/{id}/line_items")
def sessions_line_items(req: Request) -> Obj:
    app = req.app
    session = app.get("checkout.session", req.args["id"])
    return app.list_response(list(session["_line_items"]), req.p,
                             f"/v1/checkout/sessions/{session['id']}/line_items",
                             render=lambda item: _render_item(app, item))


@api("POST", "/v1/checkout/sessions/{id}/expire")
def sessions_expire(req: Request) -> Obj:
    app = req.app
    req.p.allow()
    session = app.get("checkout.session", req.args["id"])
    if session["status"] != "open":
        raise unexpected_state(f"Only Checkout Sessions with a status in [\"open\"] can be expired. This "
                               f"Checkout Session has a status of \"{session['status']}\".",
                               "checkout_session_unexpected_state")
    expire_session(app, session)
    return app.render(session)


def expire_session(app: Sandbox, session: Obj) -> None:
    pi = app.store.get(session.get("payment_intent") or "", "payment_intent")
    if pi and pi["status"] in ("requires_payment_method", "requires_confirmation", "requires_action"):
        pis.cancel_payment_intent(app, pi, "abandoned")
    release_setup_intent(app, session)
    session.update(status="expired", url=None)
    app.emit("checkout.session.expired", session)


def expire_due_sessions(app: Sandbox) -> None:
    """Open sessions past ``expires_at`` expire by themselves (checked before every API request)."""
    now = app.now()
    for session in list(app.store.coll("checkout.session").values()):
        if session["status"] == "open" and session["expires_at"] <= now:
            expire_session(app, session)


SWEEPERS.append(expire_due_sessions)


def success_url(session: Obj, app: Sandbox) -> str:
    url = session.get("success_url") or f"{app.base_url}/c/pay/{session['id']}/done"
    return url.replace("{CHECKOUT_SESSION_ID}", session["id"])


# ------------------------------------------------------------------------------ completion
def _finish(app: Sandbox, session: Obj, intent: Obj, paid: bool) -> None:
    details = session.pop("_pending_details", None) or {}
    session["customer_details"] = {"address": None, "business_name": None, "email": details.get("email"),
                                   "individual_name": None, "name": details.get("name"), "phone": None,
                                   "tax_exempt": "none", "tax_ids": []}
    if session["mode"] == "subscription":
        invoice = app.get("invoice", intent["_invoice"])
        session.update(subscription=invoice["subscription"], invoice=invoice["id"])
    elif session["mode"] == "payment":
        session["payment_intent"] = intent["id"]
    payment_status = "no_payment_required" if session["mode"] == "setup" else "paid" if paid else "unpaid"
    session.update(status="complete", payment_status=payment_status, url=None)
    redeem_payment_discount(app, session)
    app.emit("checkout.session.completed", session)


def _on_succeeded(app: Sandbox, pi: Obj) -> None:
    session = app.store.get(pi.get("_checkout_session") or "", "checkout.session")
    if session is None:
        return
    if session["status"] == "open":
        _finish(app, session, pi, paid=True)
    elif session["status"] == "complete" and session["payment_status"] == "unpaid" and \
            pi["capture_method"] != "manual":  # a captured authorization is not an async payment
        session["payment_status"] = "paid"
        app.emit("checkout.session.async_payment_succeeded", session)


def _on_failed(app: Sandbox, pi: Obj) -> None:
    session = app.store.get(pi.get("_checkout_session") or "", "checkout.session")
    if session and session["status"] == "complete" and session["payment_status"] == "unpaid":
        app.emit("checkout.session.async_payment_failed", session)


def _on_processing(app: Sandbox, pi: Obj) -> None:
    session = app.store.get(pi.get("_checkout_session") or "", "checkout.session")
    if session and session["status"] == "open":
        _finish(app, session, pi, paid=False)


pis.ON_SUCCEEDED.append(_on_succeeded)
pis.ON_FAILED.append(_on_failed)
pis.ON_PROCESSING.append(_on_processing)
pis.ON_AUTHORIZED.append(_on_processing)  # manual capture: complete, unpaid until captured


def _on_setup_succeeded(app: Sandbox, si: Obj) -> None:
    session = app.store.get(si.get("_checkout_session") or "", "checkout.session")
    if session and session["status"] == "open":
        _finish(app, session, si, paid=False)


ON_SETUP_SUCCEEDED.append(_on_setup_succeeded)


def _ensure_customer(app: Sandbox, session: Obj, email: str, name: str) -> Obj | None:
    if session.get("customer"):
        return app.get("customer", session["customer"])
    if session["mode"] == "subscription" or session.get("customer_creation") == "always":
        customer = create_customer(app, email=email, name=name)
        session["customer"] = customer["id"]
        return customer
    return None


def complete_session(app: Sandbox, session: Obj, form: dict[str, Any]) -> Obj:
    """Pay a Checkout Session the way its hosted page does. Returns the outcome (see README)."""
    if session["status"] != "open":
        raise unexpected_state(f"This Checkout Session is no longer open (status: {session['status']}).",
                               "checkout_session_unexpected_state")
    if session["expires_at"] <= app.now():
        expire_session(app, session)
        raise unexpected_state("This Checkout Session has expired.", "checkout_session_unexpected_state")
    fp = Params({k: (str(v) if isinstance(v, int) else v) for k, v in form.items()})
    email = (fp.str("email") or "").strip()
    if session.get("customer"):  # the page shows the customer's e-mail read-only
        email = app.get("customer", session["customer"]).get("email") or email
    if session.get("customer_email"):
        email = session["customer_email"]
    if not EMAIL_RE.match(email):
        raise invalid("email", "Your email address is invalid.", "email_invalid")
    name = (fp.str("name") or "").strip()
    if not name:
        raise invalid("name", "Your name is required.", "parameter_missing")
    method = fp.str("payment_method_type", "card")
    pm: Obj
    if method == "us_bank_account":
        if session["mode"] != "payment":
            raise invalid("payment_method_type", "Bank debits are only supported in payment mode.")
        pm = bank_payment_method(app, fp.req("account_number"), name, email)
    elif method == "card":
        number = (fp.str("card_number") or "").replace(" ", "").replace("-", "")
        if not number:
            raise invalid("card_number", "Your card number is incomplete.", "incomplete_number")
        exp_month, exp_year = _expiry(fp)
        card = cards.lookup(number)
        if card is None:
            raise StripeError(402, "Your card number is incorrect.", type="card_error", code="incorrect_number",
                              param="card_number")
        if session["mode"] == "subscription" and card.behaviour in (cards.DECLINE, cards.CHARGE_FAIL):
            return _outcome(app, session, "declined", error={"message": card.message, "code": card.code,
                                                             "decline_code": card.decline_code})
        pm = card_payment_method(app, number, exp_month, exp_year, fp.str("cvc"),
                                 {"email": email, "name": name}, param="card_number")
    else:
        raise invalid("payment_method_type", "Use card or us_bank_account.")
    session["_pending_details"] = {"email": email, "name": name}
    customer = _ensure_customer(app, session, email, name)
    if session["mode"] == "setup":
        si, declined = confirm_setup_session(app, session, pm, customer)
        return _outcome(app, session, "declined" if declined else "requires_action" if si["status"] ==
                        "requires_action" else "complete", si, declined)
    if session["mode"] == "subscription":
        assert customer is not None
        attach(app, pm, customer)
        items: list[tuple[Obj, int, dict[str, str]]] = []
        one_time: list[tuple[Obj, int]] = []
        for item in session["_line_items"]:
            price = app.get("price", item["_price"])
            if price["recurring"]:
                items.append((price, item["quantity"], {}))
            else:
                one_time.append((price, item["quantity"]))
        sub_data = Params(session["_sub_data"])
        sub = create_subscription(app, customer, items, one_time=one_time, default_pm=pm,
                                  metadata=metadata_update({}, sub_data.raw("metadata")),
                                  description=sub_data.str("description"),
                                  discounts=subscription_discounts(app, session),
                                  internal={"_checkout_session": session["id"]})
        invoice = app.get("invoice", sub["latest_invoice"])
        pi_id = next((pay["payment"]["payment_intent"] for pay in invoice["_payments"]), None)
        pi = app.get("payment_intent", pi_id) if pi_id else None
    else:
        pi = app.store.get(session.get("payment_intent") or "", "payment_intent")
        if pi is None or pi["status"] != "requires_payment_method":
            pd = Params(session["_pi_data"])
            transfer = pd.sub("transfer_data")
            pi = pis.create_payment_intent(
                app, amount=session["amount_total"], currency=session["currency"],
                customer=customer["id"] if customer else None,
                metadata=metadata_update({}, pd.raw("metadata")), description=pd.str("description"),
                setup_future_usage=pd.str("setup_future_usage"),
                application_fee_amount=pd.int("application_fee_amount"),
                transfer_data={"destination": transfer.req("destination")} if "transfer_data" in pd else None,
                transfer_group=pd.str("transfer_group"), receipt_email=pd.str("receipt_email") or email,
                statement_descriptor=pd.str("statement_descriptor"),
                statement_descriptor_suffix=pd.str("statement_descriptor_suffix"),
                capture_method=pd.str("capture_method") or "automatic_async",
                payment_method_types=[method], internal={"_checkout_session": session["id"]})
            session["payment_intent"] = pi["id"]
        elif customer and not pi.get("customer"):
            pi["customer"] = customer["id"]
        try:
            pis.attempt(app, pi, pm, return_url=f"{app.base_url}/c/pay/{session['id']}/return")
        except StripeError as err:
            return _outcome(app, session, "declined", pi, {"message": err.message, "code": err.code,
                                                           "decline_code": err.decline_code})
    if pi is None:
        return _outcome(app, session, "complete" if session["status"] == "complete" else "declined")
    if pi["status"] == "requires_action":
        return _outcome(app, session, "requires_action", pi)
    if session["status"] == "complete":
        paid_or_held = session["payment_status"] == "paid" or pi["status"] == "requires_capture"
        return _outcome(app, session, "complete" if paid_or_held else "processing", pi)
    last = pi.get("last_payment_error") or {}
    return _outcome(app, session, "declined", pi, {"message": last.get("message", "Your card was declined."),
                                                   "code": last.get("code"),
                                                   "decline_code": last.get("decline_code")})


def _expiry(fp: Params) -> tuple[int, int | None]:
    exp = (fp.str("exp") or "").replace(" ", "")
    if exp:
        m = re.fullmatch(r"(\d{1,2})/(\d{2}|\d{4})", exp)
        if not m:
            raise StripeError(402, "Your card's expiration date is incomplete.", type="card_error",
                              code="invalid_expiry_year", param="exp")
        return int(m.group(1)), int(m.group(2))
    return fp.int("exp_month", 12) or 12, fp.int("exp_year")


def _outcome(app: Sandbox, session: Obj, outcome: str, pi: Obj | None = None,
             error: dict[str, Any] | None = None) -> Obj:
    """``pi`` is the PaymentIntent, or in setup mode the SetupIntent, that the attempt used."""
    result: Obj = {
        "outcome": outcome,
        "checkout_session": app.render(session),
        "payment_intent": pi["id"] if pi and pi["object"] == "payment_intent" else None,
        "setup_intent": session["setup_intent"],
        "redirect_url": success_url(session, app) if outcome in ("complete", "processing") else None,
        "three_d_secure_url": None,
        "error": error,
    }
    if outcome == "requires_action" and pi is not None:
        result["three_d_secure_url"] = pi["next_action"]["redirect_to_url"]["url"]
    return result
