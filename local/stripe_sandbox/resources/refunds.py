"""Refunds (full and partial, by PaymentIntent or Charge) and Charge.refunds."""

from __future__ import annotations

from collections.abc import Callable

from ..app import RENDERERS, Obj, Sandbox
from ..errors import StripeError, invalid, unexpected_state
from ..forms import metadata_update
from ..router import Request, api, retrieve_route
from ..store import new_id

REASONS = ("duplicate", "fraudulent", "requested_by_customer")
# Connect options of a refund: ``reverse_transfer``, ``refund_application_fee``
RefundOptions = dict[str, bool]
# Checks before a refund (app, charge, amount, options): a charged-back charge cannot be refunded, ...
REFUND_CHECKS: list[Callable[[Sandbox, Obj, int, RefundOptions], None]] = []
# Hooks once a refund exists, before ``refund.created`` (balance transaction, transfer reversal, fee refund)
ON_REFUNDED: list[Callable[[Sandbox, Obj, Obj, RefundOptions], None]] = []


def _money(amount: int, currency: str) -> str:
    symbol = {"usd": "$", "eur": "€", "gbp": "£"}.get(currency, "")
    return f"{symbol}{amount / 100:.2f}" if symbol else f"{amount / 100:.2f} {currency.upper()}"


def create_refund(app: Sandbox, charge: Obj, amount: int | None, reason: str | None,
                  metadata: dict[str, str], options: RefundOptions | None = None) -> Obj:
    if charge["status"] != "succeeded":
        raise unexpected_state(f"Charge {charge['id']} has not succeeded and cannot be refunded.",
                               "charge_not_refundable")
    if not charge["captured"]:
        raise unexpected_state(f"Charge {charge['id']} has not been captured. Cancel its PaymentIntent "
                               f"({charge['payment_intent']}) to release the authorization.", "charge_not_refundable")
    # what a partial capture did not take was released as a refund already (capture.py)
    remaining = charge["amount"] - charge["amount_refunded"]
    if remaining <= 0:
        raise StripeError(400, f"Charge {charge['id']} has already been refunded.",
                          code="charge_already_refunded")
    if amount is None:
        amount = remaining
    if amount > remaining:
        raise StripeError(400, f"Refund amount ({_money(amount, charge['currency'])}) is greater than unrefunded "
                          f"amount on charge ({_money(remaining, charge['currency'])})",
                          code="amount_too_large", param="amount")
    options = options or {}
    for check in REFUND_CHECKS:
        check(app, charge, amount, options)
    return record_refund(app, charge, amount, reason, metadata, options)


def record_refund(app: Sandbox, charge: Obj, amount: int, reason: str | None, metadata: dict[str, str],
                  options: RefundOptions | None, charge_event: str = "charge.refunded") -> Obj:
    """Store a refund and emit its events. ``options=None`` releases an uncaptured authorization: no money
    moved, so the refund hooks (balance, transfer reversal, fee refund) do not run."""
    refund: Obj = {
        "id": new_id("re_"),
        "object": "refund",
        "amount": amount,
        "balance_transaction": None,
        "charge": charge["id"],
        "created": app.now_for(charge["customer"]),
        "currency": charge["currency"],
        "customer": charge["customer"],
        "customer_account": None,
        "description": None,
        "destination_details": {"card": {"reference": None, "reference_status": "pending",
                                         "reference_type": "acquirer_reference_number", "type": "refund"},
                                "type": "card"},
        "metadata": metadata,
        "payment_intent": charge["payment_intent"],
        "payment_method": charge["payment_method"],
        "presentment_details": None,
        "reason": reason,
        "receipt_number": None,
        "source_transfer_reversal": None,
        "status": "succeeded",
        "transfer_reversal": None,
    }
    app.add(refund)
    before = app.render(charge)
    charge["amount_refunded"] += amount
    charge["refunded"] = charge["amount_refunded"] >= charge["amount"]
    if options is not None:
        for hook in ON_REFUNDED:
            hook(app, charge, refund, options)
    after = app.render(charge)
    app.emit("refund.created", refund)
    app.emit(charge_event, charge, {k: before[k] for k in ("amount_refunded", "refunded", "refunds")
                                    if before[k] != after[k]})
    return refund


@api("POST", "/v1/refunds")
def refunds_create(req: Request) -> Obj:
    app, p = req.app, req.p
    p.allow("charge", "payment_intent", "amount", "reason", "metadata", "refund_application_fee",
            "reverse_transfer")
    charge_id, pi_id = p.str("charge"), p.str("payment_intent")
    if charge_id and pi_id:
        raise invalid("payment_intent", "You cannot specify both a charge and a payment_intent.")
    if pi_id:
        pi = app.get("payment_intent", pi_id, "payment_intent")
        if pi["status"] != "succeeded" or not pi.get("latest_charge"):
            raise StripeError(400, f"This PaymentIntent ({pi_id}) does not have a successful charge to refund.",
                              code="charge_not_refundable", param="payment_intent")
        charge = app.get("charge", pi["latest_charge"])
    elif charge_id:
        charge = app.get("charge", charge_id, "charge")
    else:
        raise StripeError(400, "One of the following params should be provided for this request: payment_intent "
                          "or charge.", code="parameter_missing")
    reason = p.str("reason")
    if reason is not None and reason not in REASONS:
        raise invalid("reason", f"Invalid reason: must be one of {', '.join(REASONS)}", "parameter_invalid_string")
    amount = p.amount("amount", required=False)
    options = {key: bool(p.bool(key, False)) for key in ("reverse_transfer", "refund_application_fee")}
    refund = create_refund(app, charge, amount, reason, metadata_update({}, p.raw("metadata")), options)
    return app.render(refund)


retrieve_route("/v1/refunds/{id}", "refund")


@api("POST", "/v1/refunds/{id}")
def refunds_update(req: Request) -> Obj:
    app, p = req.app, req.p
    p.allow("metadata")
    refund = app.get("refund", req.args["id"])
    before = app.render(refund)
    refund["metadata"] = metadata_update(refund["metadata"], p.raw("metadata"))
    if refund["metadata"] != before["metadata"]:
        app.emit("refund.updated", refund, {"metadata": before["metadata"]})
    return app.render(refund)


@api("POST", "/v1/refunds/{id}/cancel")
def refunds_cancel(req: Request) -> Obj:
    refund = req.app.get("refund", req.args["id"])
    raise unexpected_state(f"Only refunds with a status of pending or requires_action can be canceled; "
                           f"{refund['id']} has status {refund['status']}.", "refund_unexpected_state")


@api("GET", "/v1/refunds")
def refunds_list(req: Request) -> Obj:
    app, p = req.app, req.p
    objs = app.store.all("refund")
    for key in ("charge", "payment_intent"):
        if p.str(key):
            objs = [o for o in objs if o[key] == p.str(key)]
    return app.list_response(objs, p, "/v1/refunds")


def _render_charge(app: Sandbox, obj: Obj, out: Obj) -> None:
    refunds = [r for r in app.store.all("refund") if r["charge"] == obj["id"]]
    out["refunds"] = {"object": "list", "data": [app.render(r) for r in refunds[:10]],
                      "has_more": len(refunds) > 10, "url": f"/v1/charges/{obj['id']}/refunds"}


RENDERERS["charge"] = _render_charge
