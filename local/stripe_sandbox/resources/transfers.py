"""Transfers to connected accounts, their reversals, and destination charges.

A transfer debits the platform (``transfer``) and credits the destination with a payment ``py_…``
(``payment``); a reversal does the opposite (``transfer_refund`` / ``payment_refund``). A
destination charge (``transfer_data[destination]``) transfers its amount (or ``transfer_data[amount]``)
when captured; its ``application_fee_amount`` comes back to the platform as an application fee.
Refunds with ``reverse_transfer`` / ``refund_application_fee`` reverse both proportionally.
"""

from __future__ import annotations

from ..app import LABELS, RENDERERS, Obj, Sandbox
from ..errors import StripeError, invalid
from ..forms import metadata_update
from ..router import Request, api, retrieve_route
from ..store import new_id
from . import payment_intents as pis
from . import refunds
from ._util import child_routes, embedded_list, filtered_list, nullable_str, update_with_event
from .application_fees import create_application_fee, fee_of_charge, refund_fee
from .balance import add_transaction, fee_detail, require_available
from .connect_accounts import destination_account

LABELS["transfer"] = "transfer"
LABELS["transfer_reversal"] = "transfer reversal"


def create_transfer(app: Sandbox, *, amount: int, currency: str, destination: str, source: Obj | None = None,
                    transfer_group: str | None = None, description: str | None = None,
                    metadata: dict[str, str] | None = None, application_fee: int | None = None) -> Obj:
    """A platform transfer; ``source`` (a charge) funds it instead of the available balance."""
    if source is None:
        require_available(app, amount, currency)
    available_on = app.get("balance_transaction", source["balance_transaction"])["available_on"] if source \
        else app.now()
    transfer: Obj = {
        "id": new_id("tr_"), "object": "transfer", "amount": amount, "amount_reversed": 0,
        "balance_transaction": None, "created": app.now(), "currency": currency, "description": description,
        "destination": destination, "destination_payment": None, "livemode": False, "metadata": metadata or {},
        "reversed": False, "source_transaction": source["id"] if source else None, "source_type": "card",
        "transfer_group": transfer_group,
    }
    app.add(transfer)
    transfer["balance_transaction"] = add_transaction(  # a source charge's transfer moves when its funds settle
        app, amount=-amount, currency=currency, type_="transfer", reporting_category="transfer",
        source=transfer["id"], description=description, available_on=available_on)["id"]
    with app.account_scope(destination):
        payment: Obj = {
            "id": new_id("py_"), "object": "charge", "amount": amount, "amount_captured": amount,
            "amount_refunded": 0, "application": None, "application_fee": None,
            "application_fee_amount": application_fee, "balance_transaction": None, "billing_details": {},
            "calculated_statement_descriptor": None, "captured": True, "created": app.now(),
            "currency": currency, "customer": None, "description": description, "disputed": False,
            "failure_balance_transaction": None, "failure_code": None, "failure_message": None,
            "fraud_details": {}, "livemode": False, "metadata": {}, "on_behalf_of": None, "outcome": None,
            "paid": True, "payment_intent": None, "payment_method": None,
            "payment_method_details": {"stripe_account": {}, "type": "stripe_account"}, "presentment_details": None,
            "radar_options": None, "receipt_email": None, "receipt_number": None, "receipt_url": None,
            "refunded": False, "review": None, "shipping": None, "source": None, "source_transfer": transfer["id"],
            "statement_descriptor": None, "statement_descriptor_suffix": None, "status": "succeeded",
            "transfer_data": None, "transfer_group": transfer_group,
        }
        app.add(payment)
        details = [fee_detail(application_fee, currency, "Application fee", "application_fee")] \
            if application_fee else []
        payment["balance_transaction"] = add_transaction(
            app, amount=amount, currency=currency, type_="payment", reporting_category="charge",
            source=payment["id"], description=description, available_on=available_on, fee_details=details)["id"]
    transfer["destination_payment"] = payment["id"]
    app.emit("transfer.created", transfer)
    return transfer


def reverse_transfer(app: Sandbox, transfer: Obj, amount: int | None, *, source_refund: str | None = None,
                     description: str | None = None, metadata: dict[str, str] | None = None) -> Obj:
    """Take (part of) a transfer back from its destination: ``transfer.reversed``."""
    remaining = transfer["amount"] - transfer["amount_reversed"]
    amount = remaining if amount is None else amount
    if remaining <= 0:
        raise StripeError(400, f"Transfer {transfer['id']} has already been fully reversed.",
                          param="amount")
    if amount > remaining:
        raise StripeError(400, f"Reversal amount ({amount}) is greater than the amount that can still be reversed "
                          f"({remaining}).", code="amount_too_large", param="amount")
    with app.account_scope(transfer["destination"]):
        payment = app.get("charge", transfer["destination_payment"])
        payment_refund: Obj = {
            "id": new_id("pyr_"), "object": "refund", "amount": amount, "balance_transaction": None,
            "charge": payment["id"], "created": app.now(), "currency": transfer["currency"], "customer": None,
            "customer_account": None, "description": None, "destination_details": None, "metadata": {},
            "payment_intent": None, "payment_method": None, "presentment_details": None, "reason": None,
            "receipt_number": None, "source_transfer_reversal": None, "status": "succeeded",
            "transfer_reversal": None,
        }
        app.add(payment_refund)
        payment_refund["balance_transaction"] = add_transaction(
            app, amount=-amount, currency=transfer["currency"], type_="payment_refund",
            reporting_category="refund", source=payment_refund["id"], description=description)["id"]
        payment["amount_refunded"] += amount
        payment["refunded"] = payment["amount_refunded"] >= payment["amount"]
    reversal: Obj = {
        "id": new_id("trr_"), "object": "transfer_reversal", "amount": amount, "balance_transaction": None,
        "created": app.now(), "currency": transfer["currency"], "destination_payment_refund": payment_refund["id"],
        "metadata": metadata or {}, "source_refund": source_refund, "transfer": transfer["id"],
    }
    app.add(reversal)
    payment_refund["source_transfer_reversal"] = reversal["id"]
    reversal["balance_transaction"] = add_transaction(
        app, amount=amount, currency=transfer["currency"], type_="transfer_refund",
        reporting_category="transfer_reversal", source=reversal["id"], description=description)["id"]
    transfer["amount_reversed"] += amount
    transfer["reversed"] = transfer["amount_reversed"] >= transfer["amount"]
    app.emit("transfer.reversed", transfer)
    return reversal


def _render_transfer(app: Sandbox, obj: Obj, out: Obj) -> None:
    out["reversals"] = embedded_list(app, "transfer_reversal", "transfer", obj["id"],
                                     f"/v1/transfers/{obj['id']}/reversals")


RENDERERS["transfer"] = _render_transfer


# --------------------------------------------------------------------- destination charges, refunds
def _destination_charge(app: Sandbox, pi: Obj, charge: Obj) -> None:
    data = charge["transfer_data"]
    if not data:
        return
    amount = (pi["transfer_data"] or {}).get("amount") or charge["amount_captured"]
    group = pi.get("transfer_group") or f"group_{pi['id']}"
    pi["transfer_group"] = charge["transfer_group"] = group
    fee = charge["application_fee_amount"]
    transfer = create_transfer(app, amount=amount, currency=charge["currency"], destination=data["destination"],
                               source=charge, transfer_group=group, application_fee=fee)
    charge["transfer"] = transfer["id"]
    if fee:
        payment = transfer["destination_payment"]
        fee_obj = create_application_fee(app, account=data["destination"], amount=fee, currency=charge["currency"],
                                         charge=payment, originating=charge["id"],
                                         available_on=app.get("balance_transaction",
                                                              charge["balance_transaction"])["available_on"])
        charge["application_fee"] = fee_obj["id"]
        with app.account_scope(data["destination"]):
            app.get("charge", payment)["application_fee"] = fee_obj["id"]


def _proportional(part: int, of: int, total: int, remaining: int) -> int:
    """``part / of`` of ``total`` (halves round up), at most ``remaining``: Stripe's proportional reversal."""
    return min(remaining, (2 * part * total + of) // (2 * of))


def _check_refund_options(app: Sandbox, charge: Obj, amount: int, options: refunds.RefundOptions) -> None:
    if options.get("reverse_transfer") and not charge.get("transfer"):
        raise invalid("reverse_transfer", "This charge has no transfer to reverse: reverse_transfer works on "
                      "destination charges (transfer_data[destination]).", "parameter_invalid_empty")
    if options.get("refund_application_fee") and fee_of_charge(app, charge["id"]) is None:
        raise invalid("refund_application_fee", "This charge has no application fee to refund.",
                      "parameter_invalid_empty")


def _refund_connect_parts(app: Sandbox, charge: Obj, refund: Obj, options: refunds.RefundOptions) -> None:
    if options.get("reverse_transfer"):
        transfer = app.get("transfer", charge["transfer"])
        remaining = transfer["amount"] - transfer["amount_reversed"]
        amount = _proportional(refund["amount"], charge["amount"], transfer["amount"], remaining)
        if amount > 0:
            refund["transfer_reversal"] = reverse_transfer(app, transfer, amount, source_refund=refund["id"])["id"]
    if options.get("refund_application_fee"):
        fee = fee_of_charge(app, charge["id"])
        assert fee is not None
        remaining = fee["amount"] - fee["amount_refunded"]
        amount = _proportional(refund["amount"], charge["amount"], fee["amount"], remaining)
        if amount > 0:
            refund_fee(app, fee, amount)


pis.ON_CHARGE_CAPTURED.append(_destination_charge)
refunds.REFUND_CHECKS.append(_check_refund_options)
refunds.ON_REFUNDED.append(_refund_connect_parts)


# ------------------------------------------------------------------------------------- routes
@api("POST", "/v1/transfers")
def transfers_create(req: Request) -> Obj:
    app, p = req.app, req.p
    p.allow("amount", "currency", "destination", "source_transaction", "transfer_group", "description", "metadata")
    if app.store.account:
        raise StripeError(400, "Transfers are made by the platform (no Stripe-Account header here).")
    amount, currency = p.amount("amount"), p.currency()
    assert amount is not None
    assert currency is not None
    destination = destination_account(app, p.req("destination"), "destination")
    source = None
    if p.str("source_transaction"):
        source = app.get("charge", p.req("source_transaction"), "source_transaction")
        already = sum(t["amount"] for t in app.store.all("transfer") if t["source_transaction"] == source["id"])
        if source["status"] != "succeeded" or not source["balance_transaction"]:
            raise invalid("source_transaction", f"Charge {source['id']} has not succeeded.", "charge_not_refundable")
        if amount > source["amount_captured"] - source["amount_refunded"] - already:
            raise invalid("amount", "The transfer amount exceeds what remains of the source transaction.",
                          "amount_too_large")
        if currency != source["currency"]:
            raise invalid("currency", "The currency must match the source transaction's.", "parameter_invalid_string")
    transfer = create_transfer(app, amount=amount, currency=currency, destination=destination["id"], source=source,
                               transfer_group=p.str("transfer_group"), description=p.str("description"),
                               metadata=metadata_update({}, p.raw("metadata")))
    return app.render(transfer)


retrieve_route("/v1/transfers/{id}", "transfer")


@api("POST", "/v1/transfers/{id}")
def transfers_update(req: Request) -> Obj:
    app, p = req.app, req.p
    p.allow("description", "metadata")
    transfer = app.get("transfer", req.args["id"])

    def mutate() -> None:
        if "description" in p:
            transfer["description"] = nullable_str(p.raw("description"), "description")
        if "metadata" in p:
            transfer["metadata"] = metadata_update(transfer["metadata"], p.raw("metadata"))

    update_with_event(app, transfer, mutate)
    return app.render(transfer)


@api("GET", "/v1/transfers")
def transfers_list(req: Request) -> Obj:
    return filtered_list(req, "transfer", "/v1/transfers", ("destination", "transfer_group"))


@api("POST", "/v1/transfers/{id}/reversals")
def reversals_create(req: Request) -> Obj:
    app, p = req.app, req.p
    p.allow("amount", "description", "metadata", "refund_application_fee")
    transfer = app.get("transfer", req.args["id"])
    reversal = reverse_transfer(app, transfer, p.amount("amount", required=False), description=p.str("description"),
                                metadata=metadata_update({}, p.raw("metadata")))
    if p.bool("refund_application_fee"):
        source = app.get("charge", transfer["source_transaction"]) if transfer["source_transaction"] else None
        fee = fee_of_charge(app, source["id"]) if source else None
        if fee is not None:
            refund_fee(app, fee, _proportional(reversal["amount"], transfer["amount"], fee["amount"],
                                               fee["amount"] - fee["amount_refunded"]))
    return app.render(reversal)


child_routes("/v1/transfers", "reversals", "transfer", "transfer_reversal", "transfer", "transfer reversal")
