"""Disputes: Stripe's dispute test cards, evidence, close, and the outcome (control route or test evidence).

A chargeback withdraws the disputed amount plus Stripe's 15.00 dispute fee from the charge's account
(``charge.dispute.funds_withdrawn``); winning reinstates both (``charge.dispute.funds_reinstated``).
An inquiry (``warning_*`` statuses) moves no money unless it is escalated.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..app import LABELS, RENDERERS, Obj, Sandbox
from ..errors import StripeError, invalid, unexpected_state
from ..forms import metadata_update
from ..router import Request, api, control, retrieve_route
from ..store import new_id
from . import payment_intents as pis
from . import refunds
from ._util import filtered_list, update_with_event
from .balance import add_transaction, fee_detail
from .payment_methods import card_of

DISPUTE_FEE = 1500  # Stripe's US dispute fee, charged in the dispute's currency
EVIDENCE_DAYS = 7
TEXT_FIELDS = ("access_activity_log", "billing_address", "cancellation_policy_disclosure", "cancellation_rebuttal",
               "customer_email_address", "customer_name", "customer_purchase_ip", "duplicate_charge_explanation",
               "duplicate_charge_id", "product_description", "refund_policy_disclosure",
               "refund_refusal_explanation", "service_date", "shipping_address", "shipping_carrier",
               "shipping_date", "shipping_tracking_number", "uncategorized_text")
FILE_FIELDS = ("cancellation_policy", "customer_communication", "customer_signature",
               "duplicate_charge_documentation", "receipt", "refund_policy", "service_documentation",
               "shipping_documentation", "uncategorized_file")
EVIDENCE_LIMIT = 150_000
OPEN = ("needs_response", "under_review", "warning_needs_response", "warning_under_review")
CLOSED = ("won", "lost", "warning_closed")
NETWORK_REASON_CODES = {"fraudulent": "10.4", "product_not_received": "13.1", "duplicate": "12.6.1",
                        "subscription_canceled": "13.2", "product_unacceptable": "13.3",
                        "credit_not_processed": "13.6", "general": "10.4", "unrecognized": "10.4"}
REASONS = ("bank_cannot_process", "check_returned", "credit_not_processed", "customer_initiated",
           "debit_not_authorized", "duplicate", "fraudulent", "general", "incorrect_account_details",
           "insufficient_funds", "noncompliant", "product_not_received", "product_unacceptable",
           "subscription_canceled", "unrecognized")

LABELS["dispute"] = "dispute"


@dataclass(frozen=True)
class DisputeCard:
    reason: str
    inquiry: bool = False
    ce3_eligible: bool = False


# Stripe's dispute test cards (docs.stripe.com/testing#disputes): the charge succeeds, then is disputed
DISPUTE_CARDS = {
    "4000000000000259": DisputeCard("fraudulent"),
    "4000000000002685": DisputeCard("product_not_received"),
    "4000000000001976": DisputeCard("general", inquiry=True),
    "4000000404000038": DisputeCard("fraudulent", ce3_eligible=True),
}


def _end_of_day(ts: int) -> int:
    return ts // 86400 * 86400 + 86399


def open_dispute(app: Sandbox, charge: Obj, reason: str, *, inquiry: bool = False, ce3_eligible: bool = False,
                 amount: int | None = None) -> Obj:
    """A dispute of the current account's ``charge``: ``charge.dispute.created`` (+ ``funds_withdrawn``)."""
    if any(d["charge"] == charge["id"] and d["status"] in OPEN for d in app.store.all("dispute")):
        raise unexpected_state(f"Charge {charge['id']} already has an open dispute.", "charge_disputed")
    created = app.now_for(charge["customer"])
    card = (charge["payment_method_details"] or {}).get("card") or {}
    code = NETWORK_REASON_CODES.get(reason)
    dispute: Obj = {
        "id": new_id("dp_"),
        "object": "dispute",
        # a partly captured charge counts its released remainder as refunded: what is left is what can be disputed
        "amount": charge["amount"] - charge["amount_refunded"] if amount is None else amount,
        "balance_transactions": [],
        "charge": charge["id"],
        "created": created,
        "currency": charge["currency"],
        "enhanced_eligibility_types": ["visa_compelling_evidence_3"] if ce3_eligible else [],
        "evidence": {**dict.fromkeys(TEXT_FIELDS + FILE_FIELDS), "enhanced_evidence": {}},
        "evidence_details": {"due_by": _end_of_day(created + EVIDENCE_DAYS * 86400), "enhanced_eligibility": {},
                             "has_evidence": False, "past_due": False, "submission_count": 0},
        "intended_submission_method": None,
        "is_charge_refundable": inquiry,
        "livemode": False,
        "metadata": {},
        "network_reason_code": code,
        "payment_intent": charge["payment_intent"],
        "payment_method_details": {"card": {"brand": card.get("brand", "visa"),
                                            "case_type": "inquiry" if inquiry else "chargeback",
                                            "network_reason_code": code, "network": card.get("network", "visa")},
                                   "type": "card"},
        "reason": reason,
        "status": "warning_needs_response" if inquiry else "needs_response",
        "_transactions": [],
    }
    app.add(dispute)
    charge["disputed"] = True
    app.emit("charge.dispute.created", dispute)
    if not inquiry:
        _withdraw(app, dispute)
    return dispute


def _withdraw(app: Sandbox, dispute: Obj) -> None:
    txn = add_transaction(app, amount=-dispute["amount"], currency=dispute["currency"], type_="adjustment",
                          reporting_category="dispute", source=dispute["id"],
                          description=f"Chargeback withdrawal for {dispute['charge']}",
                          fee_details=[fee_detail(DISPUTE_FEE, dispute["currency"], "Dispute fee")])
    dispute["_transactions"].append(txn["id"])
    dispute["is_charge_refundable"] = False
    app.emit("charge.dispute.funds_withdrawn", dispute)


def close_dispute(app: Sandbox, dispute: Obj, won: bool) -> Obj:
    """The outcome: ``won``/``lost`` (an inquiry: ``warning_closed``), ``charge.dispute.closed``."""
    inquiry = dispute["status"].startswith("warning_")
    dispute["status"] = "warning_closed" if inquiry else ("won" if won else "lost")
    reinstated = won and not inquiry
    if reinstated:
        txn = add_transaction(app, amount=dispute["amount"], currency=dispute["currency"], type_="adjustment",
                              reporting_category="dispute_reversal", source=dispute["id"],
                              description=f"Chargeback reversal for {dispute['charge']}",
                              fee_details=[fee_detail(-DISPUTE_FEE, dispute["currency"], "Dispute fee")])
        dispute["_transactions"].append(txn["id"])
    app.emit("charge.dispute.closed", dispute)
    if reinstated:
        app.emit("charge.dispute.funds_reinstated", dispute)
    return dispute


def escalate_inquiry(app: Sandbox, dispute: Obj) -> Obj:
    """An inquiry becomes a chargeback: ``needs_response``, the funds are withdrawn."""
    if not dispute["status"].startswith("warning_") or dispute["status"] == "warning_closed":
        raise unexpected_state(f"Dispute {dispute['id']} is not an open inquiry (status: {dispute['status']}).",
                               "dispute_unexpected_state")
    card = dispute["payment_method_details"]["card"]

    def mutate() -> None:
        dispute["status"] = "needs_response"
        card["case_type"] = "chargeback"

    update_with_event(app, dispute, mutate, "charge.dispute.updated")
    _withdraw(app, dispute)
    return dispute


def _render_dispute(app: Sandbox, obj: Obj, out: Obj) -> None:
    out["balance_transactions"] = [app.render(app.get("balance_transaction", t)) for t in obj["_transactions"]]
    details = out["evidence_details"]
    details["past_due"] = obj["status"] in ("needs_response", "warning_needs_response") and \
        app.now() > details["due_by"]


RENDERERS["dispute"] = _render_dispute


# --------------------------------------------------------------------------------- card hooks
def _dispute_test_card(app: Sandbox, pi: Obj) -> None:
    charge = app.store.get(pi.get("latest_charge") or "", "charge")
    pm = app.store.get(charge["payment_method"] or "", "payment_method") if charge else None
    card = card_of(pm) if pm else None
    kind = DISPUTE_CARDS.get(card.number) if card else None
    if charge is not None and kind is not None:
        open_dispute(app, charge, kind.reason, inquiry=kind.inquiry, ce3_eligible=kind.ce3_eligible)


def _refund_allowed(app: Sandbox, charge: Obj, amount: int, options: refunds.RefundOptions) -> None:
    if any(d["charge"] == charge["id"] and not d["is_charge_refundable"] for d in app.store.all("dispute")):
        raise StripeError(400, f"Charge {charge['id']} has been charged back; cannot issue a refund.",
                          code="charge_disputed")


pis.ON_SUCCEEDED.append(_dispute_test_card)
refunds.REFUND_CHECKS.append(_refund_allowed)


# -------------------------------------------------------------------------------------- routes
retrieve_route("/v1/disputes/{id}", "dispute")


def _evidence(dispute: Obj, value: Any) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise invalid("evidence", "Invalid hash", "parameter_invalid_object")
    evidence = dict(dispute["evidence"])
    for key, text in value.items():
        param = f"evidence[{key}]"
        if key in FILE_FIELDS:
            raise StripeError(404, f"No such file upload: '{text}'", code="resource_missing", param=param)
        if key not in TEXT_FIELDS:
            raise StripeError(400, f"Received unknown parameter: {param}", code="parameter_unknown", param=param)
        if not isinstance(text, str):
            raise invalid(param, f"Invalid string: {text!r}", "parameter_invalid_string")
        evidence[key] = text or None
    if sum(len(v) for k, v in evidence.items() if k in TEXT_FIELDS and v) > EVIDENCE_LIMIT:
        raise invalid("evidence", f"The combined character count of all evidence fields is limited to "
                      f"{EVIDENCE_LIMIT}.", "parameter_invalid_string")
    return evidence


@api("POST", "/v1/disputes/{id}")
def disputes_update(req: Request) -> Obj:
    """Evidence and metadata; ``submit`` (Stripe's default: true when evidence is given) sends it for review.
    Test evidence ``uncategorized_text``: ``winning_evidence`` / ``losing_evidence`` decide at once,
    ``escalate_inquiry_evidence`` turns an inquiry into a chargeback."""
    app, p = req.app, req.p
    p.allow("evidence", "metadata", "submit")
    dispute = app.get("dispute", req.args["id"])
    submit = bool(p.bool("submit", "evidence" in p))
    if ("evidence" in p or submit) and dispute["status"] not in ("needs_response", "warning_needs_response"):
        raise unexpected_state(f"This dispute has a status of {dispute['status']}; its evidence can no longer be "
                               "updated or submitted.", "dispute_unexpected_state")
    evidence = _evidence(dispute, p.raw("evidence")) if "evidence" in p else dispute["evidence"]

    def mutate() -> None:
        dispute["evidence"] = evidence
        details = dispute["evidence_details"]
        details["has_evidence"] = any(evidence[k] for k in TEXT_FIELDS)
        if "metadata" in p:
            dispute["metadata"] = metadata_update(dispute["metadata"], p.raw("metadata"))
        if submit:
            details["submission_count"] += 1
            dispute["status"] = dispute["status"].replace("needs_response", "under_review")

    update_with_event(app, dispute, mutate, "charge.dispute.updated")
    outcome = evidence.get("uncategorized_text") if submit else None
    if outcome in ("winning_evidence", "losing_evidence"):
        close_dispute(app, dispute, won=outcome == "winning_evidence")
    elif outcome == "escalate_inquiry_evidence" and dispute["status"] == "warning_under_review":
        escalate_inquiry(app, dispute)
    return app.render(dispute)


@api("POST", "/v1/disputes/{id}/close")
def disputes_close(req: Request) -> Obj:
    """Accept the dispute: a chargeback is lost, an inquiry closed."""
    app = req.app
    req.p.allow()
    dispute = app.get("dispute", req.args["id"])
    if dispute["status"] not in ("needs_response", "warning_needs_response"):
        raise unexpected_state(f"This dispute cannot be closed because it has a status of {dispute['status']}.",
                               "dispute_unexpected_state")
    return app.render(close_dispute(app, dispute, won=False))


@api("GET", "/v1/disputes")
def disputes_list(req: Request) -> Obj:
    return filtered_list(req, "dispute", "/v1/disputes", ("charge", "payment_intent"))


# ------------------------------------------------------------------------------------ control
def _body(req: Request, allowed: set[str]) -> dict[str, Any]:
    body = req.json if isinstance(req.json, dict) else {}
    unknown = set(body) - allowed
    if unknown:
        raise StripeError(400, f"Unknown keys: {', '.join(sorted(unknown))}")
    return body


def _any_account(app: Sandbox, kind: str, obj_id: str) -> Obj:
    obj = app.store.get_any(obj_id, kind)
    if obj is None:
        raise StripeError(404, f"No such {LABELS.get(kind, kind)}: '{obj_id}'", code="resource_missing", param="id")
    return obj


@control("POST", "/_sandbox/disputes/{id}/resolve")
def dispute_resolve(req: Request) -> Obj:
    """``{"outcome": "won"|"lost"|"escalate"}``: the bank's decision on an open dispute (any account's)."""
    app = req.app
    outcome = _body(req, {"outcome"}).get("outcome")
    if outcome not in ("won", "lost", "escalate"):
        raise invalid("outcome", 'outcome must be "won", "lost" or "escalate"', "parameter_invalid_string")
    dispute = _any_account(app, "dispute", req.args["id"])
    with app.account_scope(dispute.get("_account")):
        if outcome == "escalate":
            return app.render(escalate_inquiry(app, dispute))
        if dispute["status"] not in OPEN:
            raise unexpected_state(f"Dispute {dispute['id']} is already closed (status: {dispute['status']}).",
                                   "dispute_unexpected_state")
        return app.render(close_dispute(app, dispute, won=outcome == "won"))


@control("POST", "/_sandbox/charges/{id}/dispute")
def charge_dispute(req: Request) -> Obj:
    """``{"reason": "fraudulent", "inquiry": false, "amount": n}`` (all optional): dispute any succeeded charge."""
    app = req.app
    body = _body(req, {"reason", "inquiry", "amount"})
    reason = body.get("reason", "fraudulent")
    if reason not in REASONS:
        raise invalid("reason", f"reason must be one of {', '.join(REASONS)}", "parameter_invalid_string")
    inquiry, amount = body.get("inquiry", False), body.get("amount")
    if not isinstance(inquiry, bool) or (amount is not None and (type(amount) is not int or amount < 1)):
        raise invalid("amount", "inquiry must be a boolean and amount a positive integer", "parameter_invalid_integer")
    charge = _any_account(app, "charge", req.args["id"])
    if charge["status"] != "succeeded":
        raise unexpected_state(f"Charge {charge['id']} has not succeeded and cannot be disputed.",
                               "charge_not_disputable")
    with app.account_scope(charge.get("_account")):
        return app.render(open_dispute(app, charge, reason, inquiry=inquiry, amount=amount))
