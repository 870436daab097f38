"""PaymentIntents, Charges and the single code path that attempts a payment.

Status machine: requires_payment_method -> requires_confirmation -> (requires_action) ->
(processing) -> succeeded | canceled. A declined attempt returns the intent to
requires_payment_method with ``last_payment_error`` and a failed Charge.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .. import cards
from ..app import Obj, Sandbox
from ..errors import StripeError, invalid, unexpected_state
from ..forms import Params, metadata_update
from ..router import Request, api, publishable, retrieve_route
from ..store import new_id
from ._util import nullable_str
from .client_side import check_client_secret, client_view, is_publishable, retrieve_intent, visible_error
from .connect_accounts import destination_account
from .intent_options import (
    AUTHORIZATION_WINDOW,
    CONFIRM_PUBLISHABLE,
    CONFIRM_SECRET,
    capture_method,
    setup_future_usage,
    shipping,
)
from .payment_methods import (
    US_BANK_ACCOUNTS,
    attach,
    card_of,
    challenge_requested,
    payment_method_param,
    resolve_payment_method,
    three_d_secure_request,
)

# Hooks run when an intent reaches a final outcome (invoices, checkout sessions subscribe to these).
ON_SUCCEEDED: list[Callable[[Sandbox, Obj], None]] = []
ON_FAILED: list[Callable[[Sandbox, Obj], None]] = []
ON_REQUIRES_ACTION: list[Callable[[Sandbox, Obj], None]] = []
ON_PROCESSING: list[Callable[[Sandbox, Obj], None]] = []
# Hooks run when a charge's money is captured, before ``charge.succeeded`` (balance transactions, transfers).
ON_CHARGE_CAPTURED: list[Callable[[Sandbox, Obj, Obj], None]] = []
# Hooks run when a manual-capture intent is authorized (requires_capture) and before an intent is canceled
ON_AUTHORIZED: list[Callable[[Sandbox, Obj], None]] = []
ON_CANCELING: list[Callable[[Sandbox, Obj], None]] = []

CANCELABLE = ("requires_payment_method", "requires_capture", "requires_confirmation", "requires_action",
              "processing")
MINIMUMS = {"usd": 50, "eur": 50, "gbp": 30, "cad": 50, "aud": 50, "chf": 50, "jpy": 50, "inr": 50}


def _label_amount(amount: int, currency: str) -> str:
    return f"{amount / 100:.2f} {currency}"


def create_payment_intent(
    app: Sandbox,
    *,
    amount: int,
    currency: str,
    customer: str | None = None,
    metadata: dict[str, str] | None = None,
    description: str | None = None,
    payment_method_types: list[str] | None = None,
    automatic_payment_methods: dict[str, Any] | None = None,
    setup_future_usage: str | None = None,
    application_fee_amount: int | None = None,
    transfer_data: dict[str, Any] | None = None,
    transfer_group: str | None = None,
    receipt_email: str | None = None,
    statement_descriptor: str | None = None,
    statement_descriptor_suffix: str | None = None,
    capture_method: str = "automatic_async",
    internal: dict[str, Any] | None = None,
) -> Obj:
    minimum = MINIMUMS.get(currency, 1)
    if amount < minimum:
        raise StripeError(400, f"Amount must be at least {_label_amount(minimum, currency)}",
                          code="amount_too_small", param="amount")
    pi_id = new_id("pi_")
    pi: Obj = {
        "id": pi_id,
        "object": "payment_intent",
        "amount": amount,
        "amount_capturable": 0,
        "amount_details": {"tip": {}},
        "amount_received": 0,
        "application": None,
        "application_fee_amount": application_fee_amount,
        "automatic_payment_methods": automatic_payment_methods,
        "canceled_at": None,
        "cancellation_reason": None,
        "capture_method": capture_method,
        "client_secret": f"{pi_id}_secret_{new_id('', 25)}",
        "confirmation_method": "automatic",
        "created": app.now_for(customer),
        "currency": currency,
        "customer": customer,
        "customer_account": None,
        "description": description,
        "excluded_payment_method_types": None,
        "last_payment_error": None,
        "latest_charge": None,
        "livemode": False,
        "managed_payments": None,
        "metadata": metadata or {},
        "next_action": None,
        "on_behalf_of": None,
        "payment_method": None,
        "payment_method_configuration_details": None,
        "payment_method_options": {"card": {"installments": None, "mandate_options": None, "network": None,
                                            "request_three_d_secure": "automatic"}},
        "payment_method_types": payment_method_types or ["card"],
        "processing": None,
        "receipt_email": receipt_email,
        "review": None,
        "setup_future_usage": setup_future_usage,
        "shipping": None,
        "source": None,
        "statement_descriptor": statement_descriptor,
        "statement_descriptor_suffix": statement_descriptor_suffix,
        "status": "requires_payment_method",
        "transfer_data": transfer_data,
        "transfer_group": transfer_group,
        **(internal or {}),
    }
    app.add(pi)
    app.emit("payment_intent.created", pi)
    return pi


def _charge(app: Sandbox, pi: Obj, pm: Obj, status: str, failure: cards.TestCard | None = None,
            failure_code: str | None = None, failure_message: str | None = None) -> Obj:
    succeeded = status == "succeeded"
    captured = succeeded and pi["capture_method"] != "manual"
    created = app.now_for(pi["customer"])
    card = card_of(pm)
    if pm["type"] == "card":
        details: Obj = {"card": {
            "amount_authorized": pi["amount"] if succeeded else None,
            "authorization_code": "123456" if succeeded else None,
            "brand": pm["card"]["brand"],
            "capture_before": created + AUTHORIZATION_WINDOW if succeeded and not captured else None,
            "checks": pm["card"]["checks"],
            "country": pm["card"]["country"],
            "exp_month": pm["card"]["exp_month"],
            "exp_year": pm["card"]["exp_year"],
            "extended_authorization": {"status": "disabled"},
            "fingerprint": pm["card"]["fingerprint"],
            "funding": pm["card"]["funding"],
            "incremental_authorization": {"status": "unavailable"},
            "installments": None,
            "last4": pm["card"]["last4"],
            "mandate": None,
            "multicapture": {"status": "unavailable"},
            "network": pm["card"]["brand"],
            "network_token": {"used": False},
            "network_transaction_id": new_id("", 15) if succeeded else None,
            "overcapture": {"maximum_amount_capturable": pi["amount"], "status": "unavailable"},
            "regulated_status": "unregulated",
            "three_d_secure": ({"authentication_flow": "challenge", "electronic_commerce_indicator": "05",
                                "exemption_indicator": None, "result": "authenticated",
                                "result_reason": None, "transaction_id": new_id("", 32), "version": "2.2.0"}
                               if pi.get("_authenticated") else None),
            "wallet": None,
        }, "type": "card"}
    else:
        details = {"type": pm["type"], pm["type"]: {k: v for k, v in pm[pm["type"]].items()
                                                    if k in ("account_holder_type", "account_type",
                                                             "bank_name", "fingerprint", "last4",
                                                             "routing_number")}}
    if failure is not None:
        failure_code, failure_message = failure.code, failure.message
    outcome: Obj
    if succeeded or status == "pending":
        outcome = {"advice_code": None, "network_advice_code": None, "network_decline_code": None,
                   "network_status": "approved_by_network", "reason": None, "risk_level": "normal",
                   "risk_score": 32, "seller_message": "Payment complete.", "type": "authorized"}
    else:
        reason = failure.decline_code if failure else failure_code
        outcome = {"advice_code": "try_again_later" if reason == "generic_decline" else None,
                   "network_advice_code": None, "network_decline_code": None,
                   "network_status": "declined_by_network", "reason": reason, "risk_level": "normal",
                   "risk_score": 40, "seller_message": "The bank did not return any further details with this "
                   "decline.", "type": "issuer_declined"}
    charge: Obj = {
        "id": new_id("ch_"),
        "object": "charge",
        "amount": pi["amount"],
        "amount_captured": pi["amount"] if captured else 0,
        "amount_refunded": 0,
        "application": None,
        "application_fee": None,
        "application_fee_amount": pi["application_fee_amount"],
        "balance_transaction": None,
        "billing_details": pm["billing_details"],
        "calculated_statement_descriptor": "SANDBOX",
        "captured": captured,
        "created": created,
        "currency": pi["currency"],
        "customer": pi["customer"],
        "description": pi["description"],
        "disputed": False,
        "failure_balance_transaction": None,
        "failure_code": failure_code,
        "failure_message": failure_message,
        "fraud_details": {},
        "livemode": False,
        "metadata": dict(pi["metadata"]),
        "on_behalf_of": None,
        "outcome": outcome,
        "paid": succeeded,
        "payment_intent": pi["id"],
        "payment_method": pm["id"],
        "payment_method_details": details,
        "presentment_details": None,
        "radar_options": None,
        "receipt_email": pi["receipt_email"],
        "receipt_number": None,
        "receipt_url": None,
        "refunded": False,
        "review": None,
        "shipping": None,
        "source": None,
        "source_transfer": None,
        "statement_descriptor": pi["statement_descriptor"],
        "statement_descriptor_suffix": pi["statement_descriptor_suffix"],
        "status": status,
        "transfer_data": ({"amount": None, "destination": pi["transfer_data"]["destination"]}
                          if pi["transfer_data"] else None),
        "transfer_group": pi["transfer_group"],  # a charge joins its PaymentIntent's group, as at Stripe
        "_card": card.number if card else None,
    }
    app.add(charge)
    pi["latest_charge"] = charge["id"]
    return charge


def _succeed(app: Sandbox, pi: Obj, pm: Obj, charge: Obj | None = None) -> Obj:
    manual = pi["capture_method"] == "manual"
    if charge is None:
        charge = _charge(app, pi, pm, "succeeded")
        if not manual:  # an authorization moves no money until it is captured (capture.py)
            charge_captured(app, pi, charge)
        app.emit("charge.succeeded", charge)
    customer = app.store.get(pi["customer"], "customer") if pi.get("customer") else None
    if customer is not None and pi.get("setup_future_usage"):
        if not pm.get("customer"):
            attach(app, pm, customer)
        if pi["setup_future_usage"] == "off_session":
            pm["_setup_off_session"] = True
    if not pm.get("customer"):
        pm["_consumed"] = True
    if manual:
        pi.update(status="requires_capture", amount_capturable=pi["amount"], next_action=None,
                  last_payment_error=None, processing=None)
        app.emit("payment_intent.amount_capturable_updated", pi)
        for authorized in ON_AUTHORIZED:
            authorized(app, pi)
        return pi
    pi.update(status="succeeded", amount_received=pi["amount"], next_action=None, last_payment_error=None,
              processing=None)
    app.emit("payment_intent.succeeded", pi)
    for hook in ON_SUCCEEDED:
        hook(app, pi)
    return pi


def charge_captured(app: Sandbox, pi: Obj, charge: Obj) -> None:
    for hook in ON_CHARGE_CAPTURED:
        hook(app, pi, charge)


def _decline_error(app: Sandbox, pi: Obj, pm: Obj, code: str, decline_code: str | None, message: str,
                   charge: Obj | None) -> Obj:
    err: Obj = {"code": code, "doc_url": f"https://stripe.com/docs/error-codes/{code.replace('_', '-')}",
                "message": message, "payment_method": app.render(pm), "type": "card_error"}
    if decline_code:
        err["decline_code"] = decline_code
    if charge is not None:
        err["charge"] = charge["id"]
    return err


def _fail(app: Sandbox, pi: Obj, pm: Obj, code: str, decline_code: str | None, message: str,
          card: cards.TestCard | None = None, charge_status: str = "failed") -> StripeError:
    charge = _charge(app, pi, pm, charge_status, card, code, message)
    app.emit("charge.failed", charge)
    pi.update(status="requires_payment_method", payment_method=None, next_action=None, processing=None,
              last_payment_error=_decline_error(app, pi, pm, code, decline_code, message, charge))
    app.emit("payment_intent.payment_failed", pi)
    for hook in ON_FAILED:
        hook(app, pi)
    extra: Obj = {"payment_intent": app.render(pi), "payment_method": app.render(pm), "charge": charge["id"]}
    return StripeError(402, message, type="card_error", code=code, decline_code=decline_code, extra=extra)


def attempt(app: Sandbox, pi: Obj, pm: Obj, *, off_session: bool = False, return_url: str | None = None) -> Obj:
    """Confirm ``pi`` with ``pm``. Raises a 402 StripeError (after recording the failure) on declines."""
    pi["payment_method"] = pm["id"]
    pi["last_payment_error"] = None
    pi["_off_session"] = off_session
    if pm["type"] == "us_bank_account":
        if pi["capture_method"] == "manual":
            raise invalid("capture_method", "us_bank_account payments cannot be captured manually (Stripe only "
                          "authorizes cards).", "parameter_invalid_string")
        pi.update(status="processing", processing=None)
        charge = _charge(app, pi, pm, "pending")
        app.emit("charge.pending", charge)
        app.emit("payment_intent.processing", pi)
        for hook in ON_PROCESSING:
            hook(app, pi)
        return pi
    card = card_of(pm)
    assert card is not None
    behaviour = card.behaviour
    if behaviour in (cards.DECLINE, cards.CHARGE_FAIL):
        raise _fail(app, pi, pm, card.code, card.decline_code, card.message, card)
    needs_auth = challenge_requested(pi) or behaviour in (cards.AUTH_ALWAYS, cards.AUTH_THEN_DECLINE) or (
        behaviour == cards.AUTH_ON_SESSION and not (off_session and pm.get("_setup_off_session")))
    if not needs_auth:
        return _succeed(app, pi, pm)
    if off_session:
        raise _fail(app, pi, pm, "authentication_required", "authentication_required",
                    "Your card was declined. This transaction requires authentication.")
    pi.update(status="requires_action", next_action={
        "type": "redirect_to_url",
        "redirect_to_url": {"return_url": return_url, "url": f"{app.base_url}/3ds/{pi['id']}"},
    })
    pi["_return_url"] = return_url
    app.emit("payment_intent.requires_action", pi)
    for hook in ON_REQUIRES_ACTION:
        hook(app, pi)
    return pi


def complete_authentication(app: Sandbox, pi: Obj, succeed: bool) -> Obj:
    """Finish (or fail) 3-D Secure for an intent in requires_action. Never raises card errors."""
    if pi["status"] != "requires_action":
        raise unexpected_state(f"This PaymentIntent is not awaiting authentication (status: {pi['status']}).",
                               "payment_intent_unexpected_state", {"payment_intent": app.render(pi)})
    pm = app.get("payment_method", pi["payment_method"])
    if succeed:
        pi["_authenticated"] = True
        card = card_of(pm)
        if card is not None and card.behaviour == cards.AUTH_THEN_DECLINE:
            try:
                raise _fail(app, pi, pm, "card_declined", "insufficient_funds",
                            "Your card has insufficient funds.", card)
            except StripeError:
                return pi
        return _succeed(app, pi, pm)
    pi.update(status="requires_payment_method", payment_method=None, next_action=None, last_payment_error={
        "code": "payment_intent_authentication_failure",
        "doc_url": "https://stripe.com/docs/error-codes/payment-intent-authentication-failure",
        "message": "The provided PaymentMethod has failed authentication. You can provide payment_method_data "
                   "or a new PaymentMethod to attempt to fulfill this PaymentIntent again.",
        "payment_method": app.render(pm),
        "type": "invalid_request_error",
    })
    app.emit("payment_intent.payment_failed", pi)
    for hook in ON_FAILED:
        hook(app, pi)
    return pi


def settle(app: Sandbox, pi: Obj) -> Obj:
    """Resolve a processing (bank debit) intent according to Stripe's test account numbers."""
    if pi["status"] != "processing":
        raise unexpected_state(f"This PaymentIntent is not processing (status: {pi['status']}).",
                               "payment_intent_unexpected_state")
    pm = app.get("payment_method", pi["payment_method"])
    charge = app.get("charge", pi["latest_charge"])
    failure = US_BANK_ACCOUNTS.get(pm.get("_account_number", ""))
    if failure is None:
        charge.update(status="succeeded", paid=True, captured=True, amount_captured=pi["amount"])
        charge_captured(app, pi, charge)
        app.emit("charge.succeeded", charge)
        return _succeed(app, pi, pm, charge)
    code, message = failure
    charge.update(status="failed", failure_code=code, failure_message=message)
    app.emit("charge.failed", charge)
    pi.update(status="requires_payment_method", payment_method=None, last_payment_error={
        "code": code, "message": message, "payment_method": app.render(pm), "type": "invalid_request_error"})
    app.emit("payment_intent.payment_failed", pi)
    for hook in ON_FAILED:
        hook(app, pi)
    return pi


def check_payment_method_usable(app: Sandbox, pi: Obj, pm: Obj) -> None:
    if pm.get("customer") and pm["customer"] != pi.get("customer"):
        if not pi.get("customer"):
            raise invalid("payment_method", f"The PaymentMethod provided ({pm['id']}) belongs to customer "
                          f"{pm['customer']}. Please include the Customer in the `customer` parameter on the "
                          "PaymentIntent.", "payment_method_unexpected_state")
        raise invalid("payment_method", f"The provided PaymentMethod ({pm['id']}) does not belong to customer "
                      f"{pi['customer']}.", "payment_method_unexpected_state")
    if pm.get("_consumed"):
        raise invalid("payment_method", "The provided PaymentMethod was previously used with a PaymentIntent "
                      "without Customer attachment, shared with a connected account without Customer "
                      "attachment, or was detached from a Customer. It may not be used again. To use a "
                      "PaymentMethod multiple times, you must attach it to a Customer first.",
                      "payment_method_unexpected_state")


def confirm(app: Sandbox, pi: Obj, p: Params) -> Obj:
    if pi["status"] not in ("requires_payment_method", "requires_confirmation"):
        raise unexpected_state(
            f"You cannot confirm this PaymentIntent because it has a status of {pi['status']}.",
            "payment_intent_unexpected_state", {"payment_intent": app.render(pi)})
    apply_payment_options(pi, p)
    if p.str("receipt_email"):
        pi["receipt_email"] = p.str("receipt_email")
    if "shipping" in p:
        pi["shipping"] = shipping(p)
    if p.list("payment_method_types"):
        pi["payment_method_types"] = [str(t) for t in p.list("payment_method_types")]
    pm = payment_method_param(app, p)
    if pm is None and pi.get("payment_method"):
        pm = resolve_payment_method(app, pi["payment_method"])
    if pm is None:
        raise unexpected_state(
            "You cannot confirm this PaymentIntent because it's missing a payment method. To confirm the "
            "PaymentIntent, specify a payment method (for example `payment_method=pm_card_visa`).",
            "payment_intent_unexpected_state", {"payment_intent": app.render(pi)})
    check_payment_method_usable(app, pi, pm)
    off_session = bool(p.bool("off_session", False))
    result = attempt(app, pi, pm, off_session=off_session, return_url=p.str("return_url"))
    if result["status"] == "requires_action" and p.bool("error_on_requires_action"):
        raise StripeError(402, "This payment required an authentication action to complete, but "
                          "`error_on_requires_action` was set.", type="card_error",
                          code="authentication_required", decline_code="authentication_required",
                          extra={"payment_intent": app.render(pi)})
    return result


def apply_payment_options(pi: Obj, p: Params) -> None:
    """``setup_future_usage``, ``capture_method`` and 3-D Secure request, as create/update/confirm take them."""
    if "setup_future_usage" in p:
        pi["setup_future_usage"] = setup_future_usage(p)
    method = capture_method(p)
    if method is not None:
        pi["capture_method"] = method
    requested = three_d_secure_request(p)
    if requested is not None:
        pi["payment_method_options"]["card"]["request_three_d_secure"] = requested


# ---------------------------------------------------------------------------------- routes
PI_CREATE = ("amount", "currency", "customer", "metadata", "description", "payment_method", "payment_method_types",
             "automatic_payment_methods", "confirm", "off_session", "return_url", "setup_future_usage",
             "application_fee_amount", "transfer_data", "receipt_email", "statement_descriptor",
             "statement_descriptor_suffix", "capture_method", "confirmation_method", "payment_method_options",
             "error_on_requires_action", "on_behalf_of", "transfer_group", "shipping", "payment_method_data")


def _transfer_data(app: Sandbox, p: Params, amount: int, headers: dict[str, str]) -> tuple[Any, int | None]:
    transfer: dict[str, Any] | None = None
    if "transfer_data" in p:
        t = p.sub("transfer_data")
        t.allow("destination", "amount")
        destination = destination_account(app, t.req("destination"), "transfer_data[destination]")["id"]
        transfer = {"destination": destination}
        if t.int("amount") is not None:
            transfer["amount"] = t.amount("amount")
            if transfer["amount"] > amount or "application_fee_amount" in p:
                raise invalid("transfer_data[amount]", "transfer_data[amount] must not exceed the amount and cannot "
                              "be combined with application_fee_amount.", "parameter_invalid_integer")
    if p.str("on_behalf_of"):
        raise invalid("on_behalf_of", "The sandbox does not support on_behalf_of (settlement merchant).",
                      "parameter_invalid_string")
    fee = p.amount("application_fee_amount", required=False, allow_zero=True)
    if fee is not None:
        if transfer is None and not headers.get("stripe-account"):
            raise StripeError(400, "Can only apply an application_fee_amount when the PaymentIntent is "
                              "attempting a direct payment (using an OAuth key or Stripe-Account header) or "
                              "destination payment (using `transfer_data[destination]`).",
                              param="application_fee_amount")
        if fee > amount:
            raise invalid("application_fee_amount", "The application fee cannot exceed the amount of the "
                          "PaymentIntent.", "parameter_invalid_integer")
    return transfer, fee


@api("POST", "/v1/payment_intents")
def payment_intents_create(req: Request) -> Obj:
    app, p = req.app, req.p
    p.allow(*PI_CREATE)
    amount = p.amount("amount")
    currency = p.currency()
    assert amount is not None
    assert currency is not None
    customer = app.get("customer", p.req("customer"), "customer")["id"] if p.str("customer") else None
    if p.str("confirmation_method", "automatic") != "automatic":
        raise invalid("confirmation_method", "The sandbox only supports confirmation_method=automatic.",
                      "parameter_invalid_string")
    apm = p.sub("automatic_payment_methods")
    apm.allow("enabled", "allow_redirects")
    types = [str(t) for t in p.list("payment_method_types")]
    if apm.bool("enabled") and types:
        raise invalid("automatic_payment_methods", "You may only specify one of these parameters: "
                      "automatic_payment_methods, payment_method_types.", "parameter_invalid_empty")
    sfu = setup_future_usage(p)
    ship, requested = shipping(p), three_d_secure_request(p)
    pm = payment_method_param(app, p)
    transfer, fee = _transfer_data(app, p, amount, req.headers)
    pi = create_payment_intent(
        app, amount=amount, currency=currency, customer=customer,
        metadata=metadata_update({}, p.raw("metadata")), description=p.str("description"),
        payment_method_types=types or ["card"],
        automatic_payment_methods=({"allow_redirects": apm.str("allow_redirects", "always"), "enabled": True}
                                   if apm.bool("enabled") else None),
        setup_future_usage=sfu, application_fee_amount=fee, transfer_data=transfer,
        transfer_group=p.str("transfer_group"), receipt_email=p.str("receipt_email"),
        statement_descriptor=p.str("statement_descriptor"),
        statement_descriptor_suffix=p.str("statement_descriptor_suffix"),
        capture_method=capture_method(p) or "automatic_async",
    )
    pi["shipping"] = ship
    if requested is not None:
        pi["payment_method_options"]["card"]["request_three_d_secure"] = requested
    if pm is not None:
        check_payment_method_usable(app, pi, pm)
        pi["payment_method"] = pm["id"]
        pi["status"] = "requires_confirmation"
    if p.bool("confirm"):
        confirm(app, pi, Params({k: v for k, v in p.data.items() if k in (
            "off_session", "return_url", "error_on_requires_action")}))
    elif p.bool("off_session"):
        raise invalid("off_session", "off_session can only be used when confirm=true.", "parameter_invalid_empty")
    return app.render(pi)


@publishable("GET", "/v1/payment_intents/{id}")
def payment_intents_retrieve(req: Request) -> Obj:
    return retrieve_intent(req, "payment_intent")


@api("POST", "/v1/payment_intents/{id}")
def payment_intents_update(req: Request) -> Obj:
    app, p = req.app, req.p
    p.allow("amount", "currency", "customer", "description", "metadata", "payment_method", "receipt_email",
            "setup_future_usage", "application_fee_amount", "statement_descriptor", "statement_descriptor_suffix",
            "payment_method_types", "transfer_data", "shipping", "capture_method", "payment_method_options",
            "payment_method_data")
    pi = app.get("payment_intent", req.args["id"])
    mutable = pi["status"] in ("requires_payment_method", "requires_confirmation", "requires_action")
    if not mutable and set(p.data) - {"metadata", "description", "receipt_email", "expand"}:
        raise unexpected_state(f"This PaymentIntent's parameters cannot be updated because it has a status of "
                               f"{pi['status']}.", "payment_intent_unexpected_state",
                               {"payment_intent": app.render(pi)})
    if "amount" in p:
        pi["amount"] = p.amount("amount")
    if "currency" in p:
        pi["currency"] = p.currency()
    if "customer" in p:
        pi["customer"] = app.get("customer", p.req("customer"), "customer")["id"]
    for key in ("description", "receipt_email", "statement_descriptor", "statement_descriptor_suffix"):
        if key in p:
            pi[key] = nullable_str(p.raw(key), key)
    apply_payment_options(pi, p)
    if "shipping" in p:
        pi["shipping"] = shipping(p)
    if p.list("payment_method_types"):
        pi["payment_method_types"] = [str(t) for t in p.list("payment_method_types")]
    if "metadata" in p:
        pi["metadata"] = metadata_update(pi["metadata"], p.raw("metadata"))
    if "application_fee_amount" in p or "transfer_data" in p:
        transfer, fee = _transfer_data(app, Params({
            "transfer_data": p.raw("transfer_data") or ({"destination": pi["transfer_data"]["destination"]}
                                                         if pi["transfer_data"] else None),
            "application_fee_amount": p.raw("application_fee_amount")}), pi["amount"], req.headers)
        pi["transfer_data"], pi["application_fee_amount"] = transfer, fee
    pm = payment_method_param(app, p)
    if pm is not None:
        check_payment_method_usable(app, pi, pm)
        pi.update(payment_method=pm["id"], status="requires_confirmation", next_action=None)
    return app.render(pi)


@publishable("POST", "/v1/payment_intents/{id}/confirm")
def payment_intents_confirm(req: Request) -> Obj:
    """Server-side (secret key) or client-side (publishable key + ``client_secret``, Stripe.js) confirmation."""
    app, p = req.app, req.p
    p.allow(*(CONFIRM_PUBLISHABLE if is_publishable(req) else CONFIRM_SECRET))
    pi = app.get("payment_intent", req.args["id"])
    check_client_secret(req, pi)
    try:
        return client_view(req, app, confirm(app, pi, p))
    except StripeError as err:
        raise visible_error(req, err) from None


@api("POST", "/v1/payment_intents/{id}/cancel")
def payment_intents_cancel(req: Request) -> Obj:
    app, p = req.app, req.p
    p.allow("cancellation_reason")
    pi = app.get("payment_intent", req.args["id"])
    reason = p.str("cancellation_reason")
    if reason not in (None, "duplicate", "fraudulent", "requested_by_customer", "abandoned"):
        raise invalid("cancellation_reason", "Invalid cancellation_reason", "parameter_invalid_string")
    if pi["status"] not in CANCELABLE:
        raise unexpected_state(
            f"You cannot cancel this PaymentIntent because it has a status of {pi['status']}. Only a "
            "PaymentIntent with one of the following statuses may be canceled: " + ", ".join(CANCELABLE) + ".",
            "payment_intent_unexpected_state", {"payment_intent": app.render(pi)})
    cancel_payment_intent(app, pi, reason)
    return app.render(pi)


def cancel_payment_intent(app: Sandbox, pi: Obj, reason: str | None) -> None:
    for canceling in ON_CANCELING:  # an uncaptured authorization is released first (capture.py)
        canceling(app, pi)
    pi.update(status="canceled", canceled_at=app.now(), cancellation_reason=reason, next_action=None)
    app.emit("payment_intent.canceled", pi)


@api("GET", "/v1/payment_intents")
def payment_intents_list(req: Request) -> Obj:
    app, p = req.app, req.p
    p.allow("customer", "created", "limit", "starting_after", "ending_before")
    objs = app.store.all("payment_intent")
    if p.str("customer"):
        objs = [o for o in objs if o["customer"] == p.str("customer")]
    return app.list_response(objs, p, "/v1/payment_intents")


@api("GET", "/v1/payment_intents/search")
def payment_intents_search(req: Request) -> Obj:
    return req.app.search_response(req.app.store.all("payment_intent"), req.p, "/v1/payment_intents/search",
                                   {"amount", "created", "currency", "customer", "metadata", "status"})


# --------------------------------------------------------------------------------- charges
retrieve_route("/v1/charges/{id}", "charge")


@api("POST", "/v1/charges/{id}")
def charges_update(req: Request) -> Obj:
    app, p = req.app, req.p
    p.allow("metadata", "description", "receipt_email", "shipping", "fraud_details", "transfer_group")
    charge = app.get("charge", req.args["id"])
    before = app.render(charge)
    if "metadata" in p:
        charge["metadata"] = metadata_update(charge["metadata"], p.raw("metadata"))
    for key in ("description", "receipt_email"):
        if key in p:
            charge[key] = nullable_str(p.raw(key), key)
    if "shipping" in p:
        charge["shipping"] = shipping(p)
    if "fraud_details" in p:
        report = p.sub("fraud_details")
        report.allow("user_report")
        if report.str("user_report") not in ("fraudulent", "safe"):
            raise invalid("fraud_details[user_report]", "Invalid user_report: must be one of fraudulent or safe",
                          "parameter_invalid_string")
        charge["fraud_details"] = {"user_report": report.str("user_report")}
    if "transfer_group" in p:
        if charge["transfer_group"]:  # Stripe lets a charge join a group once
            raise invalid("transfer_group", f"This charge already has a transfer_group ({charge['transfer_group']}).")
        charge["transfer_group"] = p.str("transfer_group")
    after = app.render(charge)
    prev = {k: before[k] for k in before if before[k] != after.get(k)}
    if prev:
        app.emit("charge.updated", charge, prev)
    return after


@api("GET", "/v1/charges")
def charges_list(req: Request) -> Obj:
    app, p = req.app, req.p
    p.allow("customer", "payment_intent", "transfer_group", "created", "limit", "starting_after", "ending_before")
    objs = app.store.all("charge")
    for key in ("customer", "payment_intent", "transfer_group"):
        if p.str(key):
            objs = [o for o in objs if o[key] == p.str(key)]
    return app.list_response(objs, p, "/v1/charges")


@api("GET", "/v1/charges/search")
def charges_search(req: Request) -> Obj:
    return req.app.search_response(req.app.store.all("charge"), req.p, "/v1/charges/search",
                                   {"amount", "created", "currency", "customer", "disputed", "metadata",
                                    "payment_intent", "refunded", "status"})
