"""Application fees (from ``application_fee_amount``) and their refunds.

The fee belongs to the platform: ``application_fee`` balance transaction (+amount) on the
platform; refunding it moves the money back to the connected account.
"""

from __future__ import annotations

from ..app import LABELS, RENDERERS, Obj, Sandbox
from ..errors import StripeError
from ..forms import metadata_update
from ..router import Request, api, retrieve_route
from ..store import new_id
from . import payment_intents as pis
from ._util import child_routes, embedded_list, filtered_list
from .balance import APPLICATION_ID, add_transaction

LABELS["application_fee"] = "application fee"
LABELS["fee_refund"] = "application fee refund"


def create_application_fee(app: Sandbox, *, account: str, amount: int, currency: str, charge: str,
                           originating: str | None, available_on: int) -> Obj:
    """The platform's fee on ``charge`` (a charge of ``account``), created in the platform's books."""
    with app.account_scope(None):
        fee: Obj = {
            "id": new_id("fee_"), "object": "application_fee", "account": account, "amount": amount,
            "amount_refunded": 0, "application": APPLICATION_ID, "balance_transaction": None, "charge": charge,
            "created": app.now(), "currency": currency, "fee_source": {"charge": charge, "type": "charge"},
            "livemode": False, "originating_transaction": originating, "refunded": False,
        }
        app.add(fee)
        txn = add_transaction(app, amount=amount, currency=currency, type_="application_fee",
                              reporting_category="platform_earning", source=fee["id"], available_on=available_on,
                              description=f"Application fee from {account}")
        fee["balance_transaction"] = txn["id"]
        app.emit("application_fee.created", fee)
    return fee


def refund_fee(app: Sandbox, fee: Obj, amount: int | None, metadata: dict[str, str] | None = None) -> Obj:
    """Give (part of) the fee back to the connected account: ``application_fee.refunded``."""
    remaining = fee["amount"] - fee["amount_refunded"]
    amount = remaining if amount is None else amount
    if remaining <= 0:
        raise StripeError(400, f"Application fee {fee['id']} has already been refunded.",
                          code="charge_already_refunded")
    if amount > remaining:
        raise StripeError(400, f"Refund amount ({amount}) is greater than the unrefunded amount of the application "
                          f"fee ({remaining}).", code="amount_too_large", param="amount")
    with app.account_scope(None):
        refund: Obj = {"id": new_id("fr_"), "object": "fee_refund", "amount": amount, "balance_transaction": None,
                       "created": app.now(), "currency": fee["currency"], "fee": fee["id"],
                       "metadata": metadata or {}}
        app.add(refund)
        txn = add_transaction(app, amount=-amount, currency=fee["currency"], type_="application_fee_refund",
                              reporting_category="platform_earning_refund", source=refund["id"],
                              description=f"Application fee refund to {fee['account']}")
        refund["balance_transaction"] = txn["id"]
        with app.account_scope(fee["account"]):
            add_transaction(app, amount=amount, currency=fee["currency"], type_="application_fee_refund",
                            reporting_category="fee", source=refund["id"], description="Application fee refund")
        fee["amount_refunded"] += amount
        fee["refunded"] = fee["amount_refunded"] >= fee["amount"]
        app.emit("application_fee.refunded", fee)
    return refund


def fee_of_charge(app: Sandbox, charge_id: str) -> Obj | None:
    """The application fee taken on a charge of any account (direct charge or destination payment)."""
    return next((f for f in app.store.all_any("application_fee")
                 if charge_id in (f["charge"], f["originating_transaction"])), None)


def _direct_charge_fee(app: Sandbox, pi: Obj, charge: Obj) -> None:
    """A direct charge on a connected account with ``application_fee_amount``: the platform's fee."""
    if app.store.account and charge["application_fee_amount"] and not charge["transfer_data"]:
        txn = app.get("balance_transaction", charge["balance_transaction"])
        fee = create_application_fee(app, account=app.store.account, amount=charge["application_fee_amount"],
                                     currency=charge["currency"], charge=charge["id"], originating=None,
                                     available_on=txn["available_on"])
        charge["application_fee"] = fee["id"]


pis.ON_CHARGE_CAPTURED.append(_direct_charge_fee)


def _render_fee(app: Sandbox, obj: Obj, out: Obj) -> None:
    out["refunds"] = embedded_list(app, "fee_refund", "fee", obj["id"], f"/v1/application_fees/{obj['id']}/refunds")


RENDERERS["application_fee"] = _render_fee

# ------------------------------------------------------------------------------------ routes
retrieve_route("/v1/application_fees/{id}", "application_fee")


@api("GET", "/v1/application_fees")
def application_fees_list(req: Request) -> Obj:
    return filtered_list(req, "application_fee", "/v1/application_fees", ("charge",))


@api("POST", "/v1/application_fees/{id}/refunds")
def fee_refunds_create(req: Request) -> Obj:
    app, p = req.app, req.p
    p.allow("amount", "metadata")
    fee = app.get("application_fee", req.args["id"])
    refund = refund_fee(app, fee, p.amount("amount", required=False), metadata_update({}, p.raw("metadata")))
    return app.render(refund)


child_routes("/v1/application_fees", "refunds", "application_fee", "fee_refund", "fee", "fee refund")
