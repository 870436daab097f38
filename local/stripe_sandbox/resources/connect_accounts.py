"""Connect accounts (Express, Custom, Standard): create, retrieve, update, list, delete; requirements.

An account is charge- and payout-enabled once nothing is ``currently_due``. The platform can fill
every requirement of a Custom account through the API; Express and Standard accounts accept the
terms of service only on the hosted onboarding page (``connect_pages.py``). Changes to a connected
account emit ``account.updated`` as an event of that account (delivered to Connect endpoints).
"""

from __future__ import annotations

from typing import Any

from ..app import LABELS, Obj, Sandbox
from ..errors import StripeError, invalid
from ..forms import Params, metadata_update
from ..router import Request, api
from ..store import new_id
from ._util import EMPTY_ADDRESS, address, filtered_list, update_with_event
from .external_accounts import bank_account, external_list

LABELS["account"] = "account"
TYPES = ("express", "custom", "standard")
CAPABILITIES = ("card_payments", "transfers")
BASE_REQUIREMENTS = ("business_profile.url", "business_type", "external_account", "tos_acceptance.date",
                     "tos_acceptance.ip")
PERSON_REQUIREMENTS = ("individual.dob.day", "individual.dob.month", "individual.dob.year", "individual.email",
                       "individual.first_name", "individual.last_name", "individual.ssn_last_4")
COMPANY_REQUIREMENTS = ("company.name", "company.tax_id")
INDIVIDUAL_KEYS = ("first_name", "last_name", "email", "phone", "dob", "address", "ssn_last_4", "id_number")
COMPANY_KEYS = ("name", "tax_id", "phone", "address")
PROFILE_KEYS = ("mcc", "name", "product_description", "support_email", "support_phone", "support_url", "url")
UPDATABLE = ("email", "business_type", "business_profile", "capabilities", "company", "individual",
             "external_account", "tos_acceptance", "metadata", "default_currency")
CONTROLLERS = {  # Stripe's controller properties of each legacy account type
    "express": {"fees": {"payer": "application"}, "is_controller": True, "losses": {"payments": "application"},
                "requirement_collection": "stripe", "stripe_dashboard": {"type": "express"}, "type": "application"},
    "custom": {"fees": {"payer": "application"}, "is_controller": True, "losses": {"payments": "application"},
               "requirement_collection": "application", "stripe_dashboard": {"type": "none"},
               "type": "application"},
    "standard": {"fees": {"payer": "account"}, "is_controller": True, "losses": {"payments": "stripe"},
                 "requirement_collection": "stripe", "stripe_dashboard": {"type": "full"}, "type": "application"},
}


def _requirements(due: list[str]) -> Obj:
    return {"alternatives": [], "current_deadline": None, "currently_due": due,
            "disabled_reason": "requirements.past_due" if due else None, "errors": [], "eventually_due": due,
            "past_due": [], "pending_verification": []}


def missing_requirements(account: Obj) -> list[str]:
    """The requirement names Stripe would list as ``currently_due`` for what the account holds."""
    have: set[str] = set()
    profile = account["business_profile"]
    if profile["url"] or profile["product_description"]:
        have.add("business_profile.url")
    if account["business_type"]:
        have.add("business_type")
    if account["external_accounts"]:
        have.add("external_account")
    if account["tos_acceptance"]["date"]:
        have.update(("tos_acceptance.date", "tos_acceptance.ip"))
    person, company = account["_individual"], account["_company"]
    for name in PERSON_REQUIREMENTS:
        key = name.split(".")[1]
        if person.get(key) or (key == "ssn_last_4" and person.get("id_number")):
            have.add(name)
    for name in COMPANY_REQUIREMENTS:
        if company.get(name.split(".")[1]):
            have.add(name)
    wanted = list(BASE_REQUIREMENTS)
    if account["business_type"] == "individual":
        wanted += PERSON_REQUIREMENTS
    elif account["business_type"] == "company":
        wanted += COMPANY_REQUIREMENTS
    return sorted(name for name in wanted if name not in have)


def refresh(account: Obj) -> None:
    """Derived state: requirements, capabilities, ``charges_enabled`` / ``payouts_enabled`` / ``details_submitted``."""
    due = missing_requirements(account)
    complete = not due
    account["requirements"] = _requirements(due)
    account["capabilities"] = {c: "active" if complete else "inactive" for c in account["_requested"]}
    account["charges_enabled"] = complete and "card_payments" in account["_requested"]
    account["payouts_enabled"] = complete
    account["details_submitted"] = complete and (account["type"] == "custom" or account["_onboarded"])
    if account["individual"] is not None:
        account["individual"] = _person(account)


def _person(account: Obj) -> Obj:
    data = account["_individual"]
    dob = data.get("dob") or {}
    return {"id": account["_person_id"], "object": "person", "account": account["id"],
            "address": data.get("address") or dict(EMPTY_ADDRESS), "created": account["created"],
            "dob": {"day": dob.get("day"), "month": dob.get("month"), "year": dob.get("year")},
            "email": data.get("email"), "first_name": data.get("first_name"), "last_name": data.get("last_name"),
            "id_number_provided": bool(data.get("id_number")), "metadata": {}, "phone": data.get("phone"),
            "ssn_last_4_provided": bool(data.get("ssn_last_4")),
            "verification": {"status": "verified" if data.get("ssn_last_4") or data.get("id_number")
                             else "unverified"}}


def _dob(value: Any, param: str) -> Obj:
    p = Params(value if isinstance(value, dict) else {}, param)
    p.allow("day", "month", "year")
    return {k: p.int(k, required=True) for k in ("day", "month", "year")}


def apply_details(app: Sandbox, account: Obj, p: Params) -> None:
    """Write the requirement-bearing parameters (API create/update and the onboarding form share this)."""
    if "email" in p:
        account["email"] = p.str("email")
    if "default_currency" in p:
        account["default_currency"] = p.currency("default_currency")
    if "business_type" in p:
        kind = p.req("business_type")
        if kind not in ("individual", "company", "non_profit", "government_entity"):
            raise invalid("business_type", "Invalid business_type", "parameter_invalid_string")
        account["business_type"] = kind
    if "business_profile" in p:
        bp = p.sub("business_profile")
        bp.allow(*PROFILE_KEYS)
        account["business_profile"].update({k: bp.str(k) for k in PROFILE_KEYS if k in bp})
    if "individual" in p:
        ind = p.sub("individual")
        ind.allow(*INDIVIDUAL_KEYS)
        for key in INDIVIDUAL_KEYS:
            if key in ind:
                value: Any = (_dob(ind.raw(key), ind.name(key)) if key == "dob" else
                              address(ind.raw(key)) if key == "address" else ind.str(key))
                if key == "ssn_last_4" and value is not None and not (value.isdigit() and len(value) == 4):
                    raise invalid(ind.name(key), "ssn_last_4 must be 4 digits.", "parameter_invalid_string")
                account["_individual"][key] = value
        if account["individual"] is None:
            account["individual"], account["_person_id"] = {}, new_id("person_")
    if "company" in p:
        company = p.sub("company")
        company.allow(*COMPANY_KEYS)
        account["_company"].update({k: address(company.raw(k)) if k == "address" else company.str(k)
                                    for k in COMPANY_KEYS if k in company})
        account["company"] = {"address": account["_company"].get("address") or dict(EMPTY_ADDRESS),
                              "name": account["_company"].get("name"), "phone": account["_company"].get("phone"),
                              "tax_id_provided": bool(account["_company"].get("tax_id"))}
    if "external_account" in p:
        account["external_accounts"] = [bank_account(app, account, p.raw("external_account"), "external_account")]
    if "tos_acceptance" in p:
        if account["type"] != "custom":
            raise invalid("tos_acceptance", "You cannot accept the Terms of Service on behalf of Standard and "
                          "Express connected accounts.", "parameter_unknown")
        tos = p.sub("tos_acceptance")
        tos.allow("date", "ip", "user_agent", "service_agreement")
        account["tos_acceptance"] = {"date": tos.int("date", required=True), "ip": tos.req("ip"),
                                     "user_agent": tos.str("user_agent")}
    if "capabilities" in p:
        caps = p.sub("capabilities")
        caps.allow(*CAPABILITIES)
        for name in CAPABILITIES:
            if name in caps:
                cap = caps.sub(name)
                cap.allow("requested")
                if cap.bool("requested"):
                    account["_requested"] = sorted({*account["_requested"], name})
                else:
                    account["_requested"] = [c for c in account["_requested"] if c != name]
    if "metadata" in p:
        account["metadata"] = metadata_update(account["metadata"], p.raw("metadata"))


def _account_type(p: Params) -> str:
    if "controller" in p:
        if "type" in p:
            raise invalid("controller", "You cannot specify both `type` and `controller`.")
        controller = p.sub("controller")
        controller.allow("stripe_dashboard", "requirement_collection", "fees", "losses")
        dashboard = controller.sub("stripe_dashboard")
        dashboard.allow("type")
        kind = {"express": "express", "none": "custom", "full": "standard"}.get(dashboard.str("type", "full") or "")
        if kind is None:
            raise invalid("controller[stripe_dashboard][type]", "Invalid type", "parameter_invalid_string")
        return kind
    kind = p.str("type", "standard") or "standard"
    if kind not in TYPES:
        raise invalid("type", f"Invalid type: must be one of {', '.join(TYPES)}", "parameter_invalid_string")
    return kind


@api("POST", "/v1/accounts")
def accounts_create(req: Request) -> Obj:
    app, p = req.app, req.p
    if app.store.account:
        raise StripeError(400, "Connected accounts cannot create accounts (no Stripe-Account header here).")
    p.allow(*UPDATABLE, "type", "country", "controller")
    kind = _account_type(p)
    country = (p.str("country", "US") or "US").upper()
    account: Obj = {
        "id": new_id("acct_", 16), "object": "account",
        "business_profile": {"annual_revenue": {"amount": None, "currency": None, "fiscal_year_end": None},
                             "estimated_worker_count": None, "minority_owned_business_designation": None,
                             "support_address": dict(EMPTY_ADDRESS), **dict.fromkeys(PROFILE_KEYS)},
        "business_type": None, "capabilities": {}, "charges_enabled": False, "company": None,
        "controller": CONTROLLERS[kind], "country": country, "created": app.now(),
        "default_currency": "usd" if country == "US" else None, "details_submitted": False, "email": None,
        "external_accounts": [], "future_requirements": _requirements([]), "individual": None, "metadata": {},
        "payouts_enabled": False, "requirements": _requirements([]),
        "settings": {"payouts": {"debit_negative_balances": True, "schedule": {"delay_days": 2, "interval": "manual"},
                                 "statement_descriptor": None},
                     "dashboard": {"display_name": None, "timezone": "Etc/UTC"}},
        "tos_acceptance": {"date": None, "ip": None, "user_agent": None}, "type": kind,
        "_requested": [] if "capabilities" in p else list(CAPABILITIES), "_individual": {}, "_company": {},
        "_onboarded": False,
    }
    app.add(account)
    apply_details(app, account, p)
    refresh(account)
    return render_account(app, account)


def render_account(app: Sandbox, account: Obj) -> Obj:
    out = app.render(account)
    if not account.get("_deleted"):
        out["external_accounts"] = external_list(app, account)
    return out


def get_account(app: Sandbox, account_id: str, param: str = "account") -> Obj:
    """A connected account the caller may see: any from the platform, itself with its Stripe-Account header."""
    account = app.store.get_any(account_id, "account")
    if account is None or account.get("_deleted") or app.store.account not in (None, account_id):
        raise StripeError(404, f"No such account: '{account_id}'", code="resource_missing", param=param)
    return account


def update_account(app: Sandbox, account: Obj, change: Any) -> None:
    """Apply ``change()`` and refresh; ``account.updated`` is an event of the connected account."""

    def mutate() -> None:
        change()
        refresh(account)

    with app.account_scope(account["id"]):
        update_with_event(app, account, mutate, "account.updated")


@api("GET", "/v1/accounts/{id}")
def accounts_retrieve(req: Request) -> Obj:
    req.p.allow()
    return render_account(req.app, get_account(req.app, req.args["id"], "id"))


@api("GET", "/v1/account")
def account_retrieve_own(req: Request) -> Obj:
    """The account of the ``Stripe-Account`` header (the platform itself has no account object here)."""
    req.p.allow()
    if not req.app.store.account:
        raise StripeError(400, "The sandbox's platform has no account object; pass a Stripe-Account header to "
                          "retrieve a connected account.")
    return render_account(req.app, get_account(req.app, req.app.store.account))


@api("POST", "/v1/accounts/{id}")
def accounts_update(req: Request) -> Obj:
    app, p = req.app, req.p
    p.allow(*UPDATABLE)
    account = get_account(app, req.args["id"], "id")
    update_account(app, account, lambda: apply_details(app, account, p))
    return render_account(app, account)


@api("DELETE", "/v1/accounts/{id}")
def accounts_delete(req: Request) -> Obj:
    app = req.app
    req.p.allow()
    account = get_account(app, req.args["id"], "id")
    account["_deleted"] = True
    return app.render(account)


@api("GET", "/v1/accounts")
def accounts_list(req: Request) -> Obj:
    app = req.app
    data = filtered_list(req, "account", "/v1/accounts")
    data["data"] = [render_account(app, get_account(app, a["id"])) for a in data["data"]]
    return data


def acting_account(app: Sandbox, header: str | None) -> str | None:
    """The ``Stripe-Account`` header's account (403 unless it is one of the platform's connected accounts)."""
    if not header:
        return None
    account = app.store.get_any(header, "account")
    if account is None or account.get("_deleted") or account.get("_account"):
        raise StripeError(403, f"The provided key does not have access to account '{header}' (or that account "
                          "does not exist). Application access may have been revoked.", code="account_invalid")
    return header


def destination_account(app: Sandbox, account_id: str, param: str) -> Obj:
    """A connected account that can receive transfers (Stripe's ``transfers`` capability, active)."""
    account = app.store.get_any(account_id, "account")
    if account is None or account.get("_deleted"):
        raise StripeError(400, f"No such destination: '{account_id}'", code="resource_missing", param=param)
    if account["capabilities"].get("transfers") != "active":
        raise StripeError(400, "Your destination account needs to have at least one of the following capabilities "
                          "enabled: transfers, crypto_transfers, legacy_payments",
                          code="insufficient_capabilities_for_transfer", param=param)
    return account
