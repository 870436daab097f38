"""Payouts of the platform or a connected account (``Stripe-Account``) to its bank account.

A payout takes its amount from the available balance at once (``payout``) and is ``pending`` until
its ``arrival_date`` (the next midnight UTC after one day). It is then paid — or fails, for Stripe's
failing test bank account numbers, returning the money (``payout_failure``) — when a test clock is
advanced past the arrival date, or at once through ``POST /_sandbox/payouts/{id}/resolve``.
"""

from __future__ import annotations

from ..app import LABELS, Obj, Sandbox
from ..errors import StripeError, invalid, unexpected_state
from ..forms import metadata_update
from ..router import Request, api, control, retrieve_route
from ..store import new_id
from . import test_clocks
from ._util import filtered_list, update_with_event
from .balance import DAY, add_transaction, require_available
from .external_accounts import PAYOUT_OUTCOMES

LABELS["payout"] = "payout"
PLATFORM_BANK = "ba_sandboxPlatformBankAccount"  # the platform's own bank account (no object behind it)


def _destination(app: Sandbox, requested: str | None) -> tuple[str, str | None]:
    """(bank account id, its account number) of the current account."""
    account_id = app.store.account
    if account_id is None:
        if requested not in (None, PLATFORM_BANK):
            raise StripeError(404, f"No such external account: '{requested}'", code="resource_missing",
                              param="destination")
        return PLATFORM_BANK, None
    account = app.store.get_any(account_id, "account") or {}
    if not account.get("payouts_enabled"):
        raise StripeError(400, "Payouts are not enabled for this account; it has requirements currently due.",
                          code="payouts_not_allowed")
    banks = account.get("external_accounts") or []
    bank_id = requested or banks[0]
    bank = app.store.get(bank_id, "bank_account")
    if bank is None or bank_id not in banks:
        raise StripeError(404, f"No such external account: '{bank_id}'", code="resource_missing",
                          param="destination")
    return bank_id, bank["_number"]


def create_payout(app: Sandbox, *, amount: int, currency: str, destination: str | None = None,
                  description: str | None = None, metadata: dict[str, str] | None = None,
                  statement_descriptor: str | None = None) -> Obj:
    bank_id, number = _destination(app, destination)
    require_available(app, amount, currency)
    now = app.now()
    payout: Obj = {
        "id": new_id("po_"), "object": "payout", "amount": amount, "application_fee": None,
        "application_fee_amount": None, "arrival_date": (now + 2 * DAY - 1) // DAY * DAY, "automatic": False,
        "balance_transaction": None, "created": now, "currency": currency, "description": description,
        "destination": bank_id, "failure_balance_transaction": None, "failure_code": None, "failure_message": None,
        "livemode": False, "metadata": metadata or {}, "method": "standard", "original_payout": None,
        "payout_method": None, "reconciliation_status": "not_applicable", "reversed_by": None,
        "source_type": "card", "statement_descriptor": statement_descriptor, "status": "pending",
        "trace_id": {"status": "pending", "value": None}, "type": "bank_account", "_number": number,
    }
    app.add(payout)
    payout["balance_transaction"] = add_transaction(
        app, amount=-amount, currency=currency, type_="payout", reporting_category="payout", source=payout["id"],
        description=description or "STRIPE PAYOUT")["id"]
    app.emit("payout.created", payout)
    return payout


def settle_payout(app: Sandbox, payout: Obj, failure_code: str | None) -> Obj:
    """Paid (``payout.paid``), or failed with ``failure_code`` (``payout.failed``, the money returns)."""
    if payout["status"] not in ("pending", "in_transit"):
        raise unexpected_state(f"Payout {payout['id']} is already {payout['status']}.", "payout_unexpected_state")
    failure = next((f for f in PAYOUT_OUTCOMES.values() if f and f[0] == failure_code), None)
    if failure_code and failure is None:
        failure = (failure_code, "The payout failed.")

    def mutate() -> None:
        if failure is None:
            payout.update(status="paid", reconciliation_status="completed",
                          trace_id={"status": "supported", "value": new_id("TRACE", 12)})
            return
        txn = add_transaction(app, amount=payout["amount"], currency=payout["currency"], type_="payout_failure",
                              reporting_category="payout_reversal", source=payout["id"],
                              description=f"Payout failure ({failure[0]})")
        payout.update(status="failed", failure_code=failure[0], failure_message=failure[1],
                      failure_balance_transaction=txn["id"], trace_id={"status": "unsupported", "value": None})

    update_with_event(app, payout, mutate)
    app.emit("payout.paid" if failure is None else "payout.failed", payout)
    return payout


def _bank_outcome(payout: Obj) -> str | None:
    failure = PAYOUT_OUTCOMES.get(payout["_number"] or "")
    return failure[0] if failure else None


def _pay_due_payouts(app: Sandbox, frozen_time: int) -> None:
    """A test clock advance settles every account's pending payouts whose arrival date it passed."""
    for payout in app.store.all_any("payout"):
        if payout["status"] == "pending" and payout["arrival_date"] <= frozen_time:
            with app.account_scope(payout.get("_account")):
                settle_payout(app, payout, _bank_outcome(payout))


test_clocks.ON_ADVANCED.append(_pay_due_payouts)


# ------------------------------------------------------------------------------------ routes
@api("POST", "/v1/payouts")
def payouts_create(req: Request) -> Obj:
    app, p = req.app, req.p
    p.allow("amount", "currency", "description", "metadata", "statement_descriptor", "destination", "method")
    if p.str("method", "standard") != "standard":
        raise invalid("method", "The sandbox only supports standard payouts.", "parameter_invalid_string")
    amount, currency = p.amount("amount"), p.currency()
    assert amount is not None
    assert currency is not None
    payout = create_payout(app, amount=amount, currency=currency, destination=p.str("destination"),
                           description=p.str("description"), metadata=metadata_update({}, p.raw("metadata")),
                           statement_descriptor=p.str("statement_descriptor"))
    return app.render(payout)


retrieve_route("/v1/payouts/{id}", "payout")


@api("POST", "/v1/payouts/{id}")
def payouts_update(req: Request) -> Obj:
    app, p = req.app, req.p
    p.allow("metadata")
    payout = app.get("payout", req.args["id"])
    update_with_event(app, payout, lambda: payout.update(metadata=metadata_update(payout["metadata"],
                                                                                  p.raw("metadata"))))
    return app.render(payout)


@api("GET", "/v1/payouts")
def payouts_list(req: Request) -> Obj:
    return filtered_list(req, "payout", "/v1/payouts", ("status", "destination"))


@api("POST", "/v1/payouts/{id}/cancel")
def payouts_cancel(req: Request) -> Obj:
    app = req.app
    req.p.allow()
    payout = app.get("payout", req.args["id"])
    if payout["status"] != "pending":
        raise unexpected_state(f"Payouts can only be canceled while they are pending; {payout['id']} is "
                               f"{payout['status']}.", "payout_unexpected_state")

    def mutate() -> None:
        add_transaction(app, amount=payout["amount"], currency=payout["currency"], type_="payout_cancel",
                        reporting_category="payout_reversal", source=payout["id"], description="Payout canceled")
        payout["status"] = "canceled"

    update_with_event(app, payout, mutate)
    app.emit("payout.canceled", payout)
    return app.render(payout)


@control("POST", "/_sandbox/payouts/{id}/resolve")
def payout_resolve(req: Request) -> Obj:
    """``{"outcome": "paid"|"failed", "failure_code": "account_closed"}``; without ``outcome`` the bank account's
    test number decides (000111111116 fails with ``no_account``, …)."""
    app = req.app
    body = req.json if isinstance(req.json, dict) else {}
    unknown = set(body) - {"outcome", "failure_code"}
    if unknown:
        raise StripeError(400, f"Unknown keys: {', '.join(sorted(unknown))}")
    payout = app.store.get_any(req.args["id"], "payout")
    if payout is None:
        raise StripeError(404, f"No such payout: '{req.args['id']}'", code="resource_missing", param="id")
    outcome = body.get("outcome")
    if outcome not in (None, "paid", "failed") or ("failure_code" in body and outcome != "failed"):
        raise invalid("outcome", 'outcome must be "paid" or "failed" (failure_code only with "failed")',
                      "parameter_invalid_string")
    code = None if outcome == "paid" else (body.get("failure_code") or "account_closed") if outcome == "failed" \
        else _bank_outcome(payout)
    with app.account_scope(payout.get("_account")):
        return app.render(settle_payout(app, payout, code))
