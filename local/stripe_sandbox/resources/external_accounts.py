"""A connected account's external bank accounts (where its payouts go) and Stripe's test bank numbers."""

from __future__ import annotations

import hashlib
from typing import Any

from ..app import LABELS, Obj, Sandbox
from ..errors import StripeError, invalid
from ..forms import Params
from ..router import Request, api
from ..store import new_id

LABELS["bank_account"] = "external account"
TEST_ROUTING_NUMBER = "110000000"
# Stripe's test account numbers -> the failure a payout to them ends with (None: paid)
PAYOUT_OUTCOMES: dict[str, tuple[str, str] | None] = {
    "000123456789": None,
    "000111111116": ("no_account", "The bank account details on file are probably incorrect. No bank account "
                     "could be located with those details."),
    "000111111113": ("account_closed", "The bank account has been closed."),
    "000222222227": ("insufficient_funds", "Your Stripe account has insufficient funds to cover the payout."),
    "000333333335": ("debit_not_authorized", "Debit transactions are not approved on the bank account."),
    "000444444440": ("invalid_currency", "The bank was unable to process this payout because of its currency."),
}
# Stripe's test bank account tokens -> account numbers
TOKENS = {"btok_us_verified": "000123456789", "btok_us_verified_noAccount": "000111111116",
          "btok_us_verified_accountClosed": "000111111113", "btok_us_verified_insufficientFunds": "000222222227",
          "btok_us_verified_debitNotAuthorized": "000333333335",
          "btok_us_verified_invalidCurrency": "000444444440"}


def bank_account(app: Sandbox, account: Obj, value: Any, param: str) -> str:
    """Store a bank account (a ``btok_…`` token or ``{object: bank_account, …}``) of ``account``; its id."""
    if isinstance(value, str):
        if value not in TOKENS:
            raise StripeError(404, f"No such token: '{value}'", code="resource_missing", param=param)
        routing, number, holder = TEST_ROUTING_NUMBER, TOKENS[value], None
        country, currency = "US", "usd"
    else:
        p = Params(value if isinstance(value, dict) else {}, param)
        p.allow("object", "country", "currency", "routing_number", "account_number", "account_holder_name",
                "account_holder_type")
        if p.str("object", "bank_account") != "bank_account":
            raise invalid(p.name("object"), "The sandbox only supports bank accounts as external accounts.",
                          "parameter_invalid_string")
        routing, number = p.req("routing_number"), p.req("account_number")
        if not (routing.isdigit() and len(routing) == 9):
            raise invalid(p.name("routing_number"), "Routing number must have 9 digits.", "routing_number_invalid")
        if not (number.isdigit() and 4 <= len(number) <= 17):
            raise invalid(p.name("account_number"), "Account number must have 4 to 17 digits.",
                          "account_number_invalid")
        holder, country = p.str("account_holder_name"), (p.str("country", "US") or "US").upper()
        currency = p.currency("currency", required=False) or "usd"
    bank: Obj = {
        "id": new_id("ba_"), "object": "bank_account", "account": account["id"], "account_holder_name": holder,
        "account_holder_type": "individual", "account_type": None, "available_payout_methods": ["standard"],
        "bank_name": "STRIPE TEST BANK", "country": country, "currency": currency, "customer": None,
        "default_for_currency": True, "fingerprint": hashlib.sha256(number.encode()).hexdigest()[:16],
        "last4": number[-4:], "metadata": {}, "routing_number": routing, "status": "new", "_number": number,
    }
    with app.account_scope(account["id"]):
        app.add(bank)
    return str(bank["id"])


def external_list(app: Sandbox, account: Obj) -> Obj:
    banks = [app.render(b) for b in (app.store.get_any(i, "bank_account") for i in account["external_accounts"]) if b]
    return {"object": "list", "data": banks, "has_more": False,
            "url": f"/v1/accounts/{account['id']}/external_accounts"}


@api("GET", "/v1/accounts/{id}/external_accounts")
def external_accounts_list(req: Request) -> Obj:
    from .connect_accounts import get_account

    req.p.allow("object", "limit")
    return external_list(req.app, get_account(req.app, req.args["id"], "id"))


@api("POST", "/v1/accounts/{id}/external_accounts")
def external_accounts_create(req: Request) -> Obj:
    """Adds a bank account; it becomes the default for payouts (the sandbox keeps one per account)."""
    from .connect_accounts import get_account, update_account

    app, p = req.app, req.p
    p.allow("external_account", "default_for_currency", "metadata")
    account = get_account(app, req.args["id"], "id")
    value = p.raw("external_account")
    if value is None:
        raise StripeError(400, "Missing required param: external_account.", code="parameter_missing",
                          param="external_account")
    created: list[str] = []

    def change() -> None:
        created.append(bank_account(app, account, value, "external_account"))
        account["external_accounts"] = created[-1:]

    update_account(app, account, change)
    return app.render(app.store.get_any(created[0], "bank_account") or {})
