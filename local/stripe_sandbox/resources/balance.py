"""Balance transactions, the balance (``GET /v1/balance``) and Stripe's fees.

Every money movement of an account writes one balance transaction (``net = amount - fee``); an
account's balance is the sum of ``net`` per currency, ``available`` once ``available_on`` has passed,
``pending`` before. Card charges become available two days later at midnight UTC (Stripe's test cards
``4000000000000077`` / ``4000003720000278`` at once); debits (refunds, transfers, payouts, disputes)
are available at once. Availability follows the sandbox's wall clock (``time_offset``), not test clocks.
"""

from __future__ import annotations

from collections.abc import Iterable

from ..app import LABELS, RENDERERS, Obj, Sandbox
from ..errors import StripeError, invalid
from ..router import Request, api, control, retrieve_route
from ..store import new_id
from . import payment_intents as pis
from . import refunds
from ._util import filtered_list
from .payment_methods import card_of

DAY = 86400
SETTLEMENT_DAYS = 2
BYPASS_PENDING_CARDS = {"4000000000000077", "4000003720000278"}
# The id the sandbox's platform application carries on application fees (Stripe's ``ca_…``)
APPLICATION_ID = "ca_sandboxPlatformApplication"
TYPES = ("adjustment", "application_fee", "application_fee_refund", "charge", "payment", "payment_refund",
         "payout", "payout_cancel", "payout_failure", "refund", "transfer", "transfer_cancel", "transfer_refund")

LABELS["balance_transaction"] = "balance transaction"


def stripe_fee(amount: int, method: str = "card") -> int:
    """Stripe's US list price: cards 2.9 % + 30 cents, ACH debits 0.8 % capped at $5 (halves round up)."""
    if method == "us_bank_account":
        return min((amount * 8 + 500) // 1000, 500)
    return (amount * 29 + 500) // 1000 + 30


def fee_detail(amount: int, currency: str, description: str, type_: str = "stripe_fee",
               application: str | None = None) -> Obj:
    return {"amount": amount, "application": application, "currency": currency, "description": description,
            "type": type_}


def add_transaction(app: Sandbox, *, amount: int, currency: str, type_: str, reporting_category: str,
                    source: str, description: str | None, created: int | None = None,
                    available_on: int | None = None, fee_details: Iterable[Obj] = (),
                    source_type: str = "card") -> Obj:
    """One balance transaction of the current account; ``available_on`` defaults to ``created`` (at once)."""
    created = app.now() if created is None else created
    details = list(fee_details)
    fee = sum(int(d["amount"]) for d in details)
    txn: Obj = {
        "id": new_id("txn_"),
        "object": "balance_transaction",
        "amount": amount,
        "available_on": created if available_on is None else available_on,
        "balance_type": "payments",
        "created": created,
        "currency": currency,
        "description": description,
        "exchange_rate": None,
        "fee": fee,
        "fee_details": details,
        "net": amount - fee,
        "reporting_category": reporting_category,
        "source": source,
        "status": "pending",
        "type": type_,
        "_source_type": source_type,
    }
    return app.add(txn)


def settles_on(created: int) -> int:
    """Midnight UTC after ``SETTLEMENT_DAYS`` days: when a charge's funds become available."""
    return (created + SETTLEMENT_DAYS * DAY + DAY - 1) // DAY * DAY


def _render_transaction(app: Sandbox, obj: Obj, out: Obj) -> None:
    out["status"] = "available" if obj["available_on"] <= app.now() else "pending"


RENDERERS["balance_transaction"] = _render_transaction


# ------------------------------------------------------------------------------ charge and refund
def _record_charge(app: Sandbox, pi: Obj, charge: Obj) -> None:
    pm = app.store.get(charge["payment_method"] or "", "payment_method")
    method = pm["type"] if pm else "card"
    card = card_of(pm) if pm else None
    currency, amount = charge["currency"], charge["amount_captured"]
    details = [fee_detail(stripe_fee(amount, method), currency, "Stripe processing fees")]
    if charge["application_fee_amount"] and not charge["transfer_data"]:
        # a direct charge on a connected account: the platform's fee comes out of this account's charge
        details.append(fee_detail(charge["application_fee_amount"], currency, "Application fee",
                                  "application_fee", APPLICATION_ID))
    bypass = card is not None and card.number in BYPASS_PENDING_CARDS
    txn = add_transaction(app, amount=amount, currency=currency, type_="charge", reporting_category="charge",
                          source=charge["id"], description=charge["description"], created=charge["created"],
                          available_on=charge["created"] if bypass else settles_on(charge["created"]),
                          fee_details=details, source_type="bank_account" if method == "us_bank_account" else "card")
    charge["balance_transaction"] = txn["id"]


def _record_refund(app: Sandbox, charge: Obj, refund: Obj, options: refunds.RefundOptions) -> None:
    pm = app.store.get(charge["payment_method"] or "", "payment_method")
    txn = add_transaction(app, amount=-refund["amount"], currency=refund["currency"], type_="refund",
                          reporting_category="refund", source=refund["id"], created=refund["created"],
                          description=f"REFUND FOR CHARGE ({charge['description'] or charge['id']})",
                          source_type="bank_account" if pm and pm["type"] == "us_bank_account" else "card")
    refund["balance_transaction"] = txn["id"]


pis.ON_CHARGE_CAPTURED.append(_record_charge)
refunds.ON_REFUNDED.append(_record_refund)


# ------------------------------------------------------------------------------------- balance
def available_amount(app: Sandbox, currency: str) -> int:
    """What the current account may spend now (transfers and payouts draw on this)."""
    now = app.now()
    return sum(t["net"] for t in app.store.all("balance_transaction")
               if t["currency"] == currency and t["available_on"] <= now)


def require_available(app: Sandbox, amount: int, currency: str) -> None:
    if available_amount(app, currency) < amount:
        raise StripeError(400, "You have insufficient available funds in your Stripe account. Try adding funds "
                          "directly to your available balance by creating Charges using the 4000000000000077 "
                          "test card. See: https://stripe.com/docs/testing#available-balance",
                          code="balance_insufficient")


def balance(app: Sandbox) -> Obj:
    now = app.now()
    sums: dict[str, dict[str, dict[str, int]]] = {"available": {}, "pending": {}}
    currencies = {"usd"}
    for txn in app.store.all("balance_transaction"):
        bucket = "available" if txn["available_on"] <= now else "pending"
        by_type = sums[bucket].setdefault(txn["currency"], {})
        by_type[txn["_source_type"]] = by_type.get(txn["_source_type"], 0) + txn["net"]
        currencies.add(txn["currency"])

    def entries(bucket: str) -> list[Obj]:
        result = []
        for currency in sorted(currencies):
            by_type = sums[bucket].get(currency, {})
            result.append({"amount": sum(by_type.values()), "currency": currency,
                           "source_types": {"card": 0, **by_type}})
        return result

    return {"object": "balance", "available": entries("available"), "pending": entries("pending"),
            "connect_reserved": [{"amount": 0, "currency": c} for c in sorted(currencies)], "livemode": False}


@api("GET", "/v1/balance")
def balance_retrieve(req: Request) -> Obj:
    req.p.allow()
    return balance(req.app)


retrieve_route("/v1/balance_transactions/{id}", "balance_transaction")


@api("GET", "/v1/balance_transactions")
def balance_transactions_list(req: Request) -> Obj:
    type_ = req.p.str("type")
    if type_ is not None and type_ not in TYPES:
        raise invalid("type", f"Invalid type: must be one of {', '.join(TYPES)}", "parameter_invalid_string")
    return filtered_list(req, "balance_transaction", "/v1/balance_transactions", ("type", "source", "currency"))


# ------------------------------------------------------------------------------------ control
@control("POST", "/_sandbox/balance/make_available")
def make_available(req: Request) -> Obj:
    """Every pending transaction of ``account`` (default: the platform) becomes available now."""
    app = req.app
    body = req.json if isinstance(req.json, dict) else {}
    unknown = set(body) - {"account"}
    if unknown:
        raise StripeError(400, f"Unknown keys: {', '.join(sorted(unknown))}")
    account = body.get("account")
    if account is not None:
        app.get("account", account, "account")
    with app.account_scope(account):
        now = app.now()
        for txn in app.store.all("balance_transaction"):
            txn["available_on"] = min(txn["available_on"], now)
        return balance(app)
