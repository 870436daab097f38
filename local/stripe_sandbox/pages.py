"""Server-rendered HTML pages: hosted Checkout, 3-D Secure challenge, webhook delivery log.

Plain HTML forms, a little inline CSS, no JavaScript and nothing external.
"""

from __future__ import annotations

import html
import time
from urllib.parse import quote, urlencode

from .app import Obj, Sandbox
from .errors import StripeError
from .resources import payment_intents as pis
from .resources.checkout import complete_session, expire_session, success_url
from .resources.checkout_discounts import applied_code, apply_promotion_code
from .resources.control import authenticate_setup_intent
from .router import Request, Response, page

CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,sans-serif;background:#f6f8fa;color:#1a1f36;margin:0}
main{max-width:460px;margin:40px auto;background:#fff;border-radius:8px;padding:28px;
box-shadow:0 2px 8px rgba(0,0,0,.08)}
h1{font-size:20px;margin:0 0 4px}.muted{color:#697386;font-size:13px}
table{width:100%;border-collapse:collapse;margin:16px 0}td{padding:6px 0;border-bottom:1px solid #e3e8ee}
td.r{text-align:right}label{display:block;font-size:13px;margin:12px 0 4px;color:#3c4257}
input{width:100%;box-sizing:border-box;padding:9px;border:1px solid #cfd7df;border-radius:5px;font-size:15px}
.row{display:flex;gap:10px}.row>div{flex:1}
button{width:100%;margin-top:18px;padding:11px;border:0;border-radius:5px;background:#635bff;color:#fff;
font-size:16px;cursor:pointer}button.fail{background:#df1b41}
.error{background:#fde8ec;color:#a41c32;padding:10px;border-radius:5px;margin-top:12px}
.badge{display:inline-block;background:#ffde92;color:#5a3a00;font-size:11px;padding:2px 6px;border-radius:4px}
a{color:#635bff}
.log td,.log th{font-size:12px;padding:4px;border-bottom:1px solid #e3e8ee;text-align:left}
"""


def _page(title: str, body: str, status: int = 200) -> Response:
    doc = (f"<!doctype html><html lang=en><head><meta charset=utf-8><title>{html.escape(title)}</title>"
           f"<meta name=viewport content='width=device-width,initial-scale=1'><style>{CSS}</style></head>"
           f"<body><main>{body}</main></body></html>")
    return Response(status, doc.encode("utf-8"), "text/html")


def _redirect(url: str) -> Response:
    return Response(303, b"", "text/html", {"Location": url})


def _money(amount: int, currency: str) -> str:
    symbol = {"usd": "$", "eur": "€", "gbp": "£"}.get(currency)
    return f"{symbol}{amount / 100:,.2f}" if symbol else f"{amount / 100:,.2f} {currency.upper()}"


@page("GET", "/")
def index(req: Request) -> Response:
    return _page("Stripe sandbox", "<h1>Stripe sandbox</h1><p class=muted>A local, stateful imitation of the "
                 "Stripe API for tests. Point the SDK's <code>api</code> base address here.</p>"
                 "<p><a href='/_sandbox/deliveries'>Webhook deliveries</a></p>")


# ------------------------------------------------------------------------------------ checkout
def checkout_form(app: Sandbox, session: Obj, error: str | None = None, values: dict[str, str] | None = None,
                  status: int = 200, promotion_error: str | None = None) -> Response:
    values = values or {}
    esc = html.escape
    if session["status"] != "open":
        msg = "This checkout session is complete." if session["status"] == "complete" else \
            "This checkout session has expired."
        return _page("Checkout", f"<h1>Checkout</h1><p id=status data-status='{esc(session['status'])}'>{msg}</p>",
                     410 if session["status"] == "expired" else 200)
    if session["mode"] == "setup":
        return _setup_form(app, session, error, values, status)
    rows = ""
    for item in session["_line_items"]:
        price = app.get("price", item["_price"])
        per = f" / {price['recurring']['interval']}" if price["recurring"] else ""
        rows += (f"<tr><td>{esc(item['description'])} × {item['quantity']}</td>"  # noqa: RUF001
                 f"<td class=r>{_money(item['amount_subtotal'], item['currency'])}{per}</td></tr>")
    rows += _discount_row(app, session)
    rows += (f"<tr><td><b>Total due today</b></td><td class=r><b id=total>"
             f"{_money(session['amount_total'], session['currency'])}</b></td></tr>")
    button = f"{'Subscribe' if session['mode'] == 'subscription' else 'Pay'} " \
             f"{_money(session['amount_total'], session['currency'])}"
    body = f"""
<p class=muted><span class=badge>TEST MODE</span> Stripe sandbox checkout</p>
<h1>{'Subscribe' if session['mode'] == 'subscription' else 'Pay'}</h1>
<table>{rows}</table>
{_promotion_code_form(app, session, promotion_error)}
{_card_form(app, session, values, error, button)}"""
    return _page("Checkout", body, status)


def _setup_form(app: Sandbox, session: Obj, error: str | None, values: dict[str, str], status: int) -> Response:
    """``mode=setup``: nothing to pay, the card is saved for later (``#pay`` says "Save card")."""
    body = f"""
<p class=muted><span class=badge>TEST MODE</span> Stripe sandbox checkout</p>
<h1>Save your card</h1>
<p class=muted id=setup_notice>Your card is saved for future payments. Nothing is charged now.</p>
{_card_form(app, session, values, error, "Save card")}"""
    return _page("Checkout", body, status)


def _card_form(app: Sandbox, session: Obj, values: dict[str, str], error: str | None, button: str) -> str:
    esc = html.escape
    email = values.get("email", "")
    readonly = ""
    if session.get("customer_email"):
        email, readonly = session["customer_email"], " readonly"
    elif session.get("customer"):
        customer = app.store.get(session["customer"], "customer")
        if customer and customer.get("email"):
            email, readonly = customer["email"], " readonly"
    cancel = ""
    if session.get("cancel_url"):
        cancel = f"<p><a id=cancel href='{esc(session['cancel_url'])}'>← Cancel and return</a></p>"
    err = f"<div class=error id=error role=alert>{esc(error)}</div>" if error else ""
    return f"""<form method=post action='/c/pay/{esc(session['id'])}' id=checkout-form>
<label for=email>Email</label>
<input id=email name=email type=email autocomplete=email required value='{esc(email)}'{readonly}>
<label for=name>Name on card</label>
<input id=name name=name autocomplete=cc-name required value='{esc(values.get('name', ''))}'>
<label for=card_number>Card number</label>
<input id=card_number name=card_number inputmode=numeric autocomplete=cc-number placeholder='4242 4242 4242 4242'
 required value='{esc(values.get('card_number', ''))}'>
<div class=row><div><label for=exp>Expiry (MM/YY)</label>
<input id=exp name=exp placeholder='12/34' autocomplete=cc-exp required value='{esc(values.get('exp', ''))}'></div>
<div><label for=cvc>CVC</label><input id=cvc name=cvc placeholder='123' autocomplete=cc-csc required
 value='{esc(values.get('cvc', ''))}'></div></div>
{err}
<button type=submit id=pay>{esc(button)}</button>
</form>
{cancel}
<p class=muted>Test cards: 4242 4242 4242 4242 (succeeds), 4000 0000 0000 0002 (declined),
4000 0025 0000 3155 (3-D Secure).</p>"""


def _open_session(req: Request) -> Obj:
    app = req.app
    session = app.get("checkout.session", req.args["id"])
    if session["status"] == "open" and session["expires_at"] <= app.now():
        expire_session(app, session)
    return session


@page("GET", "/c/pay/{id}")
def checkout_page(req: Request) -> Response:
    try:
        session = _open_session(req)
    except StripeError:
        return _page("Checkout", "<h1>Something went wrong</h1><p>This checkout session does not exist.</p>", 404)
    return checkout_form(req.app, session, error=req.params.get("error"))


@page("POST", "/c/pay/{id}")
def checkout_submit(req: Request) -> Response:
    app = req.app
    try:
        session = _open_session(req)
    except StripeError:
        return _page("Checkout", "<h1>Something went wrong</h1><p>This checkout session does not exist.</p>", 404)
    form = {k: str(v) for k, v in req.params.items() if isinstance(v, str)}
    if session["status"] != "open":
        return checkout_form(app, session)
    try:
        outcome = complete_session(app, session, form)
    except StripeError as err:
        return checkout_form(app, session, err.message, form, 400 if err.status == 400 else 402)
    if outcome["outcome"] == "requires_action":
        return _redirect(outcome["three_d_secure_url"])
    if outcome["outcome"] in ("complete", "processing"):
        return _redirect(outcome["redirect_url"])
    return checkout_form(app, session, (outcome.get("error") or {}).get("message") or "Your card was declined.",
                         form, 402)


def _discount_row(app: Sandbox, session: Obj) -> str:
    off = session["total_details"]["amount_discount"]
    if not off:
        return ""
    label = html.escape(applied_code(app, session) or "Discount")
    return (f"<tr id=discount_row><td>{label}</td><td class=r id=discount>"
            f"−{_money(off, session['currency'])}</td></tr>")  # noqa: RUF001


def _promotion_code_form(app: Sandbox, session: Obj, error: str | None) -> str:
    """With ``allow_promotion_codes``: the code field (#promotion_code, #apply_promotion_code) or the applied
    code with #remove_promotion_code; errors in #promotion_code_error."""
    if not session.get("allow_promotion_codes"):
        return ""
    action = f"/c/pay/{html.escape(session['id'])}/promotion_code"
    code = applied_code(app, session)
    if code:
        inner = (f"<p class=muted>Code <b id=applied_promotion_code>{html.escape(code)}</b> applied. "
                 "<button type=submit id=remove_promotion_code name=promotion_code value=''>Remove</button></p>")
    else:
        inner = ("<label for=promotion_code>Promotion code</label><div class=row><div>"
                 "<input id=promotion_code name=promotion_code autocomplete=off></div><div>"
                 "<button type=submit id=apply_promotion_code>Apply</button></div></div>")
    err = f"<div class=error id=promotion_code_error role=alert>{html.escape(error)}</div>" if error else ""
    return f"<form method=post action='{action}' id=promotion-code-form>{inner}{err}</form>"


@page("POST", "/c/pay/{id}/promotion_code")
def checkout_promotion_code(req: Request) -> Response:
    try:
        session = _open_session(req)
    except StripeError:
        return _page("Checkout", "<h1>Something went wrong</h1><p>This checkout session does not exist.</p>", 404)
    code = req.params.get("promotion_code")
    try:
        apply_promotion_code(req.app, session, code if isinstance(code, str) else None)
    except StripeError as err:
        return checkout_form(req.app, session, promotion_error=err.message, status=400)
    return _redirect(f"/c/pay/{session['id']}")


@page("GET", "/c/pay/{id}/return")
def checkout_return(req: Request) -> Response:
    app = req.app
    session = app.get("checkout.session", req.args["id"])
    if session["status"] == "complete":
        return _redirect(success_url(session, app))
    pi = app.store.get(session.get("payment_intent") or "", "payment_intent")
    si = app.store.get(session.get("setup_intent") or "", "setup_intent")
    last_error = (pi or {}).get("last_payment_error") or (si or {}).get("last_setup_error") or {}
    message = last_error.get("message") or "Authentication failed."
    return _redirect(f"/c/pay/{session['id']}?{urlencode({'error': message})}")


@page("GET", "/c/pay/{id}/done")
def checkout_done(req: Request) -> Response:
    session = req.app.get("checkout.session", req.args["id"])
    return _page("Thanks", f"<h1>Thanks!</h1><p id=status data-status='{html.escape(session['status'])}'>"
                 f"Checkout session {html.escape(session['id'])} is {html.escape(session['status'])}.</p>")


# ------------------------------------------------------------------------------- 3-D Secure
def _intent(app: Sandbox, intent_id: str) -> Obj:
    kind = "setup_intent" if intent_id.startswith("seti_") else "payment_intent"
    return app.get(kind, intent_id)


@page("GET", "/3ds/{id}")
def three_ds_page(req: Request) -> Response:
    try:
        intent = _intent(req.app, req.args["id"])
    except StripeError:
        return _page("3D Secure", "<h1>Unknown payment</h1>", 404)
    esc = html.escape
    if intent["status"] != "requires_action":
        return _page("3D Secure", f"<h1>Nothing to authenticate</h1><p id=status>Status: "
                     f"{esc(intent['status'])}</p>")
    amount = (f"<p>Amount: <b>{_money(intent['amount'], intent['currency'])}</b></p>"
              if intent["object"] == "payment_intent" else "<p>Saving a card for future payments.</p>")
    body = f"""
<p class=muted><span class=badge>TEST MODE</span> 3D Secure 2 test page</p>
<h1>Authenticate this payment</h1>
{amount}
<p class=muted>This page stands in for the card issuer's challenge.</p>
<form method=post action='/3ds/{esc(intent['id'])}'>
<button type=submit name=result value=succeed id=complete>Complete authentication</button>
<button type=submit name=result value=fail id=fail class=fail>Fail authentication</button>
</form>"""
    return _page("3D Secure", body)


@page("POST", "/3ds/{id}")
def three_ds_submit(req: Request) -> Response:
    app = req.app
    intent = _intent(app, req.args["id"])
    succeed = req.params.get("result") == "succeed"
    if intent["status"] == "requires_action":
        if intent["object"] == "payment_intent":
            pis.complete_authentication(app, intent, succeed)
        else:
            authenticate_setup_intent(app, intent, succeed)
    if intent.get("_checkout_session"):
        return _redirect(f"/c/pay/{intent['_checkout_session']}/return")
    outcome = "succeeded" if intent["status"] in ("succeeded", "processing") else "failed"
    if intent.get("_return_url"):
        key = "payment_intent" if intent["object"] == "payment_intent" else "setup_intent"
        sep = "&" if "?" in intent["_return_url"] else "?"
        query = urlencode({key: intent["id"], f"{key}_client_secret": intent["client_secret"],
                           "redirect_status": outcome})
        return _redirect(intent["_return_url"] + sep + query)
    return _page("3D Secure", f"<h1>Authentication {outcome}</h1><p id=status data-status='{outcome}'>"
                 f"{html.escape(intent['id'])}: {html.escape(intent['status'])}</p>")


# ------------------------------------------------------------------------------ delivery log
def deliveries_html(app: Sandbox, endpoints: list[Obj]) -> Response:
    esc = html.escape
    parts = ["<h1>Webhook deliveries</h1>"]
    for ep in endpoints:
        parts.append(f"<h3>{esc(ep['id'])}{' (deleted)' if ep.get('_deleted') else ''}</h3>"
                     f"<p class=muted>{esc(ep['url'])} — <a href='/_sandbox/webhook_endpoints/"
                     f"{quote(ep['id'])}/deliveries'>JSON</a></p>")
        rows = "".join(
            f"<tr><td>{time.strftime('%H:%M:%S', time.localtime(d['created']))}</td><td>{esc(d['event_type'])}"
            f"</td><td>{esc(d['event_id'])}</td><td>{d['attempt']}{' dup' if d['duplicate'] else ''}</td>"
            f"<td>{d['response_status'] or esc(d['error'] or '')}</td><td>{esc(d['status'])}</td></tr>"
            for d in reversed(app.store.deliveries.get(ep["id"], [])[-200:]))
        parts.append("<table class=log><tr><th>time</th><th>type</th><th>event</th><th>attempt</th>"
                     f"<th>response</th><th>status</th></tr>{rows}</table>")
    if not endpoints:
        parts.append("<p>No webhook endpoints.</p>")
    resp = _page("Webhook deliveries", "".join(parts))
    return resp
