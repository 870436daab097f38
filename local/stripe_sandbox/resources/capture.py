"""Manual capture: a ``capture_method=manual`` PaymentIntent stops at ``requires_capture`` holding an authorization
(``amount_capturable``); ``POST /v1/payment_intents/{id}/capture`` takes all or part of it and releases the rest.
Canceling releases the whole authorization; left alone it expires at the charge's
``payment_method_details.card.capture_before`` (7 days, on the customer's test clock if it has one).

A release is recorded the way Stripe records it: a Refund of the uncaptured amount on the charge.
"""

from __future__ import annotations

from ..app import SWEEPERS, Obj, Sandbox, previous_attributes
from ..errors import StripeError, invalid, unexpected_state
from ..forms import metadata_update
from ..router import Request, api
from . import payment_intents as pis
from ._util import nullable_str
from .refunds import record_refund

CAPTURE_PARAMS = ("amount_to_capture", "metadata", "statement_descriptor", "statement_descriptor_suffix",
                  "application_fee_amount")


def capture(app: Sandbox, pi: Obj, amount: int) -> Obj:
    """Capture ``amount`` of the authorization; the rest of ``amount_capturable`` is released."""
    charge = app.get("charge", pi["latest_charge"])
    before = app.render(charge)
    charge.update(captured=True, amount_captured=amount)
    pis.charge_captured(app, pi, charge)  # balance transactions, transfers: on the captured amount
    app.emit("charge.captured", charge, previous_attributes(before, app.render(charge)))
    released = pi["amount_capturable"] - amount
    pi.update(status="succeeded", amount_capturable=0, amount_received=amount)
    if released:
        record_refund(app, charge, released, None, {}, None)
    app.emit("payment_intent.succeeded", pi)
    for hook in pis.ON_SUCCEEDED:
        hook(app, pi)
    return pi


def release(app: Sandbox, pi: Obj, *, expired: bool = False) -> None:
    """Give the whole uncaptured authorization back (cancel, or expiry with ``charge.expired``)."""
    amount = pi["amount_capturable"]
    if pi["status"] != "requires_capture" or amount <= 0:
        return
    charge = app.get("charge", pi["latest_charge"])
    pi["amount_capturable"] = 0
    if expired:
        record_refund(app, charge, amount, "expired_uncaptured_charge", {}, None, "charge.expired")
    else:
        record_refund(app, charge, amount, None, {}, None)


def expire_authorizations(app: Sandbox) -> None:
    """Authorizations past ``capture_before`` lapse: released, ``charge.expired``, the intent canceled."""
    for pi in list(app.store.coll("payment_intent").values()):
        if pi["status"] != "requires_capture":
            continue
        with app.account_scope(pi.get("_account")):
            charge = app.get("charge", pi["latest_charge"])
            if app.now_for(pi["customer"]) < charge["payment_method_details"]["card"]["capture_before"]:
                continue
            release(app, pi, expired=True)
            pis.cancel_payment_intent(app, pi, "automatic")


SWEEPERS.append(expire_authorizations)
pis.ON_CANCELING.append(release)


def _application_fee(req: Request, pi: Obj, amount: int) -> int | None:
    fee = req.p.amount("application_fee_amount", required=False, allow_zero=True)
    if fee is None:
        return None
    if not pi["transfer_data"] and not req.headers.get("stripe-account"):
        raise StripeError(400, "Can only apply an application_fee_amount when the PaymentIntent is attempting a "
                          "direct payment (using an OAuth key or Stripe-Account header) or destination payment "
                          "(using `transfer_data[destination]`).", param="application_fee_amount")
    if fee > amount:
        raise invalid("application_fee_amount", "The application fee cannot exceed the amount to capture.",
                      "parameter_invalid_integer")
    return fee


@api("POST", "/v1/payment_intents/{id}/capture")
def payment_intents_capture(req: Request) -> Obj:
    app, p = req.app, req.p
    p.allow(*CAPTURE_PARAMS)
    pi = app.get("payment_intent", req.args["id"])
    if pi["status"] != "requires_capture":
        raise unexpected_state(f"This PaymentIntent could not be captured because it has a status of {pi['status']}. "
                               "Only a PaymentIntent with one of the following statuses may be captured: "
                               "requires_capture.", "payment_intent_unexpected_state",
                               {"payment_intent": app.render(pi)})
    amount = p.amount("amount_to_capture", required=False) or pi["amount_capturable"]
    if amount > pi["amount_capturable"]:
        raise invalid("amount_to_capture", f"The amount to capture ({amount}) is greater than the amount capturable "
                      f"on this PaymentIntent ({pi['amount_capturable']}).", "amount_too_large")
    fee = _application_fee(req, pi, amount)
    if "metadata" in p:
        pi["metadata"] = metadata_update(pi["metadata"], p.raw("metadata"))
    for key in ("statement_descriptor", "statement_descriptor_suffix"):
        if key in p:
            pi[key] = nullable_str(p.raw(key), key)
    if fee is not None:
        pi["application_fee_amount"] = fee
        app.get("charge", pi["latest_charge"])["application_fee_amount"] = fee
    return app.render(capture(app, pi, amount))
