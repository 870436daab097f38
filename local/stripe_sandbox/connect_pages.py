"""Hosted Connect pages: account onboarding (from an account link) and the Express dashboard (login link).

Plain HTML like ``pages.py``. Submitting the onboarding form fills the account's requirements the
way Stripe's hosted onboarding does, accepts the terms of service and sends ``account.updated``.
"""

from __future__ import annotations

import html
from typing import Any

from .app import Obj, Sandbox
from .errors import StripeError
from .forms import Params
from .pages import _money, _page, _redirect
from .resources.balance import balance
from .resources.connect_accounts import apply_details, update_account
from .router import Request, Response, page

FIELDS = ("business_type", "first_name", "last_name", "email", "dob", "ssn_last_4", "company_name",
          "company_tax_id", "business_url", "routing_number", "account_number")


def _link(app: Sandbox, token: str) -> Obj | None:
    return app.store.get_any(token, "account_link")


def _input(name: str, label: str, values: dict[str, str], kind: str = "text", hint: str = "") -> str:
    esc = html.escape
    return (f"<label for={name}>{esc(label)}</label><input id={name} name={name} type={kind} "
            f"placeholder='{esc(hint)}' value='{esc(values.get(name, ''))}'>")


def onboarding_form(app: Sandbox, link: Obj, values: dict[str, str], error: str | None = None,
                    status: int = 200) -> Response:
    esc = html.escape
    account = app.store.get_any(link["_account_id"], "account") or {}
    values = {"email": account.get("email") or "", "business_type": "individual", **values}
    options = "".join(f"<option value={v}{' selected' if values['business_type'] == v else ''}>{v}</option>"
                      for v in ("individual", "company"))
    err = f"<div class=error id=error role=alert>{esc(error)}</div>" if error else ""
    body = f"""
<p class=muted><span class=badge>TEST MODE</span> Stripe sandbox Connect onboarding</p>
<h1>Set up payouts</h1>
<p class=muted id=account>{esc(link['_account_id'])}</p>
<form method=post action='/connect/onboarding/{esc(link['id'])}' id=onboarding-form>
<label for=business_type>Business type</label><select id=business_type name=business_type>{options}</select>
{_input('first_name', 'First name', values)}{_input('last_name', 'Last name', values)}
{_input('email', 'Email', values, 'email')}{_input('dob', 'Date of birth', values, 'date', 'YYYY-MM-DD')}
{_input('ssn_last_4', 'Last 4 of SSN (individual)', values, hint='0000')}
{_input('company_name', 'Company name (company)', values)}{_input('company_tax_id', 'Tax id (company)', values,
                                                                    hint='000000000')}
{_input('business_url', 'Business website', values, 'url', 'https://example.com')}
{_input('routing_number', 'Routing number', values, hint='110000000')}
{_input('account_number', 'Account number', values, hint='000123456789')}
<label><input type=checkbox id=tos name=tos value=accept style='width:auto'> I accept the Stripe Connected
 Account Agreement</label>
{err}
<button type=submit id=submit>Agree and submit</button>
</form>"""
    return _page("Onboarding", body, status)


def _expired(link: Obj) -> Response:
    if link["_refresh_url"]:
        return _redirect(link["_refresh_url"])
    return _page("Onboarding", "<h1>This link has expired</h1><p id=status data-status=expired>Ask the platform "
                 "for a new onboarding link.</p>", 410)


def _usable(app: Sandbox, link: Obj) -> bool:
    return not link["_used"] and link["expires_at"] > app.now()


@page("GET", "/connect/onboarding/{token}")
def onboarding_page(req: Request) -> Response:
    link = _link(req.app, req.args["token"])
    if link is None:
        return _page("Onboarding", "<h1>Unknown link</h1>", 404)
    return onboarding_form(req.app, link, {}) if _usable(req.app, link) else _expired(link)


def _details(form: dict[str, str]) -> dict[str, Any]:
    """The form as account parameters; a ValueError names what is missing or malformed."""
    kind = form.get("business_type", "")
    required = ["first_name", "last_name", "business_url", "routing_number", "account_number"]
    required += ["email", "dob", "ssn_last_4"] if kind == "individual" else ["company_name", "company_tax_id"]
    missing = [f for f in required if not form.get(f)]
    if kind not in ("individual", "company") or missing:
        raise ValueError(f"Please fill in: {', '.join(missing) or 'business type'}.")
    if form.get("tos") != "accept":
        raise ValueError("Please accept the Stripe Connected Account Agreement.")
    name = f"{form['first_name']} {form['last_name']}"
    details: dict[str, Any] = {
        "business_type": kind, "business_profile": {"url": form["business_url"]},
        "external_account": {"object": "bank_account", "country": "US", "currency": "usd",
                             "routing_number": form["routing_number"], "account_number": form["account_number"],
                             "account_holder_name": name},
    }
    if kind == "individual":
        try:
            year, month, day = (int(x) for x in form["dob"].split("-"))
        except ValueError:
            raise ValueError("Date of birth must be YYYY-MM-DD.") from None
        details["email"] = form["email"]
        details["individual"] = {"first_name": form["first_name"], "last_name": form["last_name"],
                                 "email": form["email"], "ssn_last_4": form["ssn_last_4"],
                                 "dob": {"day": day, "month": month, "year": year}}
    else:
        details["company"] = {"name": form["company_name"], "tax_id": form["company_tax_id"]}
    return details


@page("POST", "/connect/onboarding/{token}")
def onboarding_submit(req: Request) -> Response:
    app = req.app
    link = _link(app, req.args["token"])
    if link is None:
        return _page("Onboarding", "<h1>Unknown link</h1>", 404)
    if not _usable(app, link):
        return _expired(link)
    form = {k: str(v).strip() for k, v in req.params.items() if isinstance(v, str)}
    values = {k: form.get(k, "") for k in FIELDS}
    account = app.store.get_any(link["_account_id"], "account")
    if account is None or account.get("_deleted"):
        return _page("Onboarding", "<h1>This account no longer exists</h1>", 404)
    try:
        details = _details(form)
    except ValueError as exc:
        return onboarding_form(app, link, values, str(exc), 400)

    def change() -> None:
        apply_details(app, account, Params(details))
        account["tos_acceptance"] = {"date": app.now(), "ip": "127.0.0.1",
                                     "user_agent": req.headers.get("user-agent")}
        account["_onboarded"] = True

    try:
        update_account(app, account, change)
    except StripeError as err:
        return onboarding_form(app, link, values, err.message, 400)
    link["_used"] = True
    if link["_return_url"]:
        return _redirect(link["_return_url"])
    return _page("Onboarding", f"<h1>You're all set</h1><p id=status data-status=complete>"
                 f"{html.escape(account['id'])} can now accept payments.</p>")


@page("GET", "/connect/express/{account}/{token}")
def express_dashboard(req: Request) -> Response:
    app = req.app
    login = app.store.get_any(req.args["token"], "login_link")
    if login is None or login["_account_id"] != req.args["account"]:
        return _page("Express", "<h1>Unknown login link</h1>", 404)
    with app.account_scope(login["_account_id"]):
        funds = balance(app)
    available = " + ".join(_money(b["amount"], b["currency"]) for b in funds["available"])
    pending = " + ".join(_money(b["amount"], b["currency"]) for b in funds["pending"])
    return _page("Express", f"<p class=muted><span class=badge>TEST MODE</span> Express dashboard</p>"
                 f"<h1 id=account>{html.escape(login['_account_id'])}</h1>"
                 f"<p>Available: <b id=available>{available}</b></p><p>Pending: <b id=pending>{pending}</b></p>")
