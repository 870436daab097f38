"""The hosted customer portal (``GET /p/session/{bps_id}``, a billing portal session's ``url``).

Plain HTML forms like the other hosted pages. What it offers follows the session's configuration:

* ``payment_method_update``: a card form; the card is set up through a SetupIntent (3-D Secure cards go through the
  3DS page and back) and becomes the customer's ``invoice_settings.default_payment_method`` and the default of
  the subscriptions that had their own (``setup_intent.*``, ``payment_method.attached``, ``customer.updated``,
  ``customer.subscription.updated``);
* ``subscription_cancel``: cancel immediately (``customer.subscription.deleted``; a proration credit with
  ``proration_behavior=create_prorations``) or at the period end (``customer.subscription.updated``), with the
  configured cancellation reasons; a subscription set to cancel can be renewed;
* ``invoice_history``: the customer's invoices.
"""

from __future__ import annotations

import html
import time
from typing import Any
from urllib.parse import urlencode

from .app import Obj, Sandbox, previous_attributes
from .errors import StripeError
from .forms import Params
from .pages import _money, _page, _redirect
from .resources.checkout import _expiry
from .resources.payment_methods import card_payment_method
from .resources.setup_intents import ON_SETUP_SUCCEEDED, confirm_setup_intent, create_setup_intent
from .resources.subscription_changes import credit_unused_time
from .resources.subscriptions_invoices import cancel_subscription, period_end
from .router import Request, Response, page

LIVE = ("active", "past_due", "trialing")


def _date(timestamp: int) -> str:
    return time.strftime("%d %b %Y", time.gmtime(timestamp))


def _context(req: Request) -> tuple[Obj, Obj, Obj]:
    app = req.app
    session = app.get("billing_portal.session", req.args["id"])
    return session, app.get("billing_portal.configuration", session["configuration"]), \
        app.get("customer", session["customer"])


def _subscriptions(app: Sandbox, customer: Obj) -> list[Obj]:
    return [s for s in app.store.all("subscription") if s["customer"] == customer["id"] and s["status"] in LIVE]


def _subscription_html(app: Sandbox, sub: Obj, cancel: Obj, sid: str) -> str:
    esc = html.escape
    items = [app.get("subscription_item", i) for i in sub["_items"]]
    names = ", ".join(esc((app.store.get(app.get("price", i["_price"])["product"], "product") or {})
                          .get("name", "Item")) for i in items)
    amount = sum(app.get("price", i["_price"])["unit_amount"] * i["quantity"] for i in items)
    interval = sub["_interval"][0]
    end = _date(period_end(app, sub))
    state = f"Cancels on {end}" if sub["cancel_at_period_end"] else f"Renews on {end}"
    if sub["status"] == "trialing":
        state = f"Trial ends on {end}" + (" (then cancels)" if sub["cancel_at_period_end"] else "")
    action = ""
    if sub["cancel_at_period_end"]:
        action = (f"<form method=post action='/p/session/{sid}/renew'><input type=hidden name=subscription "
                  f"value='{esc(sub['id'])}'><button id='renew-{esc(sub['id'])}'>Renew plan</button></form>")
    elif cancel["enabled"]:
        reasons = ""
        if cancel["cancellation_reason"]["enabled"]:
            options = "".join(f"<option value='{esc(o)}'>{esc(o.replace('_', ' '))}</option>"
                              for o in cancel["cancellation_reason"]["options"])
            reasons = (f"<label for='cancellation_reason-{esc(sub['id'])}'>Why are you cancelling?</label>"
                       f"<select id='cancellation_reason-{esc(sub['id'])}' name=reason><option value=''>—</option>"
                       f"{options}</select>")
        label = "Cancel plan now" if cancel["mode"] == "immediately" else "Cancel plan at period end"
        action = (f"<form method=post action='/p/session/{sid}/cancel'><input type=hidden name=subscription "
                  f"value='{esc(sub['id'])}'>{reasons}<button class=fail id='cancel-{esc(sub['id'])}'>{label}"
                  "</button></form>")
    return (f"<div id='subscription-{esc(sub['id'])}'><h3>{names}</h3><p>{_money(amount, sub['currency'])} / "
            f"{esc(interval)} — <span id='status-{esc(sub['id'])}'>{esc(state)}</span></p>{action}</div>")


def _card_html(app: Sandbox, customer: Obj, sid: str, enabled: bool) -> str:
    pm_id = customer["invoice_settings"]["default_payment_method"]
    pm = app.store.get(pm_id, "payment_method") if pm_id else None
    card = (pm or {}).get("card") or {}
    current = (f"<p id=payment_method>{html.escape(str(card.get('brand', 'card')).title())} •••• "
               f"{html.escape(str(card.get('last4', '')))}</p>" if pm else "<p id=payment_method>No card on file</p>")
    if not enabled:
        return f"<h2>Payment method</h2>{current}"
    return f"""<h2>Payment method</h2>{current}
<form method=post action='/p/session/{sid}/payment_method' id=payment-method-form>
<label for=card_number>New card number</label><input id=card_number name=card_number required
 placeholder='4242 4242 4242 4242'>
<div class=row><div><label for=exp>Expiry (MM/YY)</label><input id=exp name=exp placeholder='12/34' required></div>
<div><label for=cvc>CVC</label><input id=cvc name=cvc placeholder='123' required></div></div>
<button type=submit id=update_payment_method>Update card</button></form>"""


def _invoices_html(app: Sandbox, customer: Obj) -> str:
    rows = "".join(
        f"<tr id='invoice-{html.escape(i['id'])}'><td>{_date(i['created'])}</td>"
        f"<td class=r>{_money(i['total'], i['currency'])}</td><td class=r>{html.escape(i['status'])}</td></tr>"
        for i in app.store.all("invoice") if i["customer"] == customer["id"] and i["status"] != "draft")
    return f"<h2>Invoice history</h2><table id=invoices>{rows or '<tr><td>No invoices yet.</td></tr>'}</table>"


def portal(app: Sandbox, session: Obj, config: Obj, customer: Obj, *, message: str | None = None,
           error: str | None = None, status: int = 200) -> Response:
    esc = html.escape
    sid = esc(session["id"])
    features = config["features"]
    subs = "".join(_subscription_html(app, s, features["subscription_cancel"], sid)
                   for s in _subscriptions(app, customer)) or "<p>No active subscriptions.</p>"
    parts = [
        "<p class=muted><span class=badge>TEST MODE</span> Stripe sandbox customer portal</p>",
        f"<h1>{esc(config['business_profile'].get('headline') or 'Manage your billing')}</h1>",
        f"<p class=muted id=customer_email>{esc(customer.get('email') or customer['id'])}</p>",
        f"<div class=message id=message role=status>{esc(message)}</div>" if message else "",
        f"<div class=error id=error role=alert>{esc(error)}</div>" if error else "",
        f"<h2>Subscriptions</h2><div id=subscriptions>{subs}</div>",
        _card_html(app, customer, sid, features["payment_method_update"]["enabled"]),
        _invoices_html(app, customer) if features["invoice_history"]["enabled"] else "",
        f"<p><a id=return href='{esc(session['return_url'])}'>← Return</a></p>" if session["return_url"] else "",
    ]
    return _page("Customer portal", "".join(parts), status)


@page("GET", "/p/session/{id}")
def portal_page(req: Request) -> Response:
    try:
        session, config, customer = _context(req)
    except StripeError:
        return _page("Customer portal", "<h1>This portal link is not valid.</h1>", 404)
    status = req.params.get("redirect_status")  # back from the 3-D Secure page
    message = req.params.get("message")
    if status == "succeeded":
        message = "Your payment method was updated."
    error = "Authentication failed; your payment method was not changed." if status == "failed" else None
    return portal(req.app, session, config, customer, message=message if isinstance(message, str) else None,
                  error=error)


def _own_subscription(app: Sandbox, customer: Obj, form: dict[str, Any]) -> Obj:
    sub = app.get("subscription", form.get("subscription"), "subscription")
    if sub["customer"] != customer["id"] or sub["status"] not in LIVE:
        raise StripeError(400, "This subscription cannot be changed here.")
    return sub


@page("POST", "/p/session/{id}/cancel")
def portal_cancel(req: Request) -> Response:
    app = req.app
    session, config, customer = _context(req)
    cancel = config["features"]["subscription_cancel"]
    try:
        if not cancel["enabled"]:
            raise StripeError(400, "Cancelling is not enabled in this portal.")
        sub = _own_subscription(app, customer, req.params)
        reason = req.params.get("reason") or None
        if reason is not None and reason not in cancel["cancellation_reason"]["options"]:
            raise StripeError(400, "Choose one of the listed reasons.")
    except StripeError as err:
        return portal(app, session, config, customer, error=err.message, status=400)
    now = app.now_for(customer["id"])
    if cancel["mode"] == "immediately":
        if cancel["proration_behavior"] == "create_prorations":
            credit_unused_time(app, sub, now)
        sub["canceled_at"] = None
        cancel_subscription(app, sub, feedback=reason)
        note = "Your subscription was cancelled."
    else:
        before = app.render(sub)
        sub.update(cancel_at_period_end=True, cancel_at=period_end(app, sub), canceled_at=now)
        sub["cancellation_details"] = {"comment": None, "feedback": reason, "reason": "cancellation_requested"}
        app.emit("customer.subscription.updated", sub, previous_attributes(before, app.render(sub)))
        note = f"Your subscription will end on {_date(period_end(app, sub))}."
    return _redirect(f"/p/session/{session['id']}?{urlencode({'message': note})}")


@page("POST", "/p/session/{id}/renew")
def portal_renew(req: Request) -> Response:
    app = req.app
    session, config, customer = _context(req)
    try:
        sub = _own_subscription(app, customer, req.params)
    except StripeError as err:
        return portal(app, session, config, customer, error=err.message, status=400)
    if sub["cancel_at_period_end"]:
        before = app.render(sub)
        sub.update(cancel_at_period_end=False, cancel_at=None, canceled_at=None)
        sub["cancellation_details"] = {"comment": None, "feedback": None, "reason": None}
        app.emit("customer.subscription.updated", sub, previous_attributes(before, app.render(sub)))
    return _redirect(f"/p/session/{session['id']}?{urlencode({'message': 'Your subscription will renew.'})}")


@page("POST", "/p/session/{id}/payment_method")
def portal_payment_method(req: Request) -> Response:
    app = req.app
    session, config, customer = _context(req)
    if not config["features"]["payment_method_update"]["enabled"]:
        return portal(app, session, config, customer, error="Updating the card is not enabled.", status=400)
    form = Params({k: v for k, v in req.params.items() if isinstance(v, str)})
    try:
        exp_month, exp_year = _expiry(form)
        pm = card_payment_method(app, form.str("card_number") or "", exp_month, exp_year, form.str("cvc"),
                                 {"email": customer.get("email"), "name": customer.get("name")},
                                 param="card_number")
        si = create_setup_intent(app, customer=customer["id"], internal={"_billing_portal_session": session["id"]})
        si = confirm_setup_intent(app, si, pm, return_url=f"{app.base_url}/p/session/{session['id']}")
    except StripeError as err:
        return portal(app, session, config, customer, error=err.message, status=402 if err.status == 402 else 400)
    if si["status"] == "requires_action":
        return _redirect(si["next_action"]["redirect_to_url"]["url"])
    return _redirect(f"/p/session/{session['id']}?{urlencode({'message': 'Your payment method was updated.'})}")


def _make_default(app: Sandbox, si: Obj) -> None:
    """A card set up in the portal becomes the customer's default, and that of subscriptions that had their own."""
    if not si.get("_billing_portal_session") or not si.get("customer"):
        return
    customer = app.get("customer", si["customer"])
    before = app.render(customer)
    customer["invoice_settings"]["default_payment_method"] = si["payment_method"]
    app.emit("customer.updated", customer, previous_attributes(before, app.render(customer)))
    for sub in _subscriptions(app, customer):
        if sub["default_payment_method"] and sub["default_payment_method"] != si["payment_method"]:
            sub_before = app.render(sub)
            sub["default_payment_method"] = si["payment_method"]
            app.emit("customer.subscription.updated", sub, previous_attributes(sub_before, app.render(sub)))


ON_SETUP_SUCCEEDED.append(_make_default)
