"""SetupIntents: saving a card for later payments, confirmed server-side or client-side (Stripe.js style).

Client-side means a publishable key plus the SetupIntent's client secret on
``GET /v1/setup_intents/{id}`` and ``POST /v1/setup_intents/{id}/confirm`` (see client_side.py).
Cards that need 3-D Secure on setup go to ``requires_action`` with the sandbox's /3ds page.
"""

from __future__ import annotations

from collections.abc import Callable

from .. import cards
from ..app import Obj, Sandbox
from ..errors import StripeError, invalid, unexpected_state
from ..forms import Params, metadata_update
from ..router import Request, api, publishable
from ..store import new_id
from ._util import nullable_str
from .client_side import check_client_secret, client_view, retrieve_intent, visible_error
from .payment_methods import (
    attach,
    card_error,
    card_of,
    challenge_requested,
    payment_method_param,
    three_d_secure_request,
)

# Hooks run when a SetupIntent succeeds (Checkout Sessions in setup mode complete on it).
ON_SETUP_SUCCEEDED: list[Callable[[Sandbox, Obj], None]] = []

AUTHENTICATE_ON_SETUP = (cards.AUTH_ON_SESSION, cards.AUTH_ALWAYS, cards.AUTH_THEN_DECLINE)
CANCELLATION_REASONS = ("abandoned", "requested_by_customer", "duplicate")
CONFIRM_PARAMS = ("payment_method", "payment_method_data", "return_url", "payment_method_options", "client_secret")


def _setup_intent_error(app: Sandbox, si: Obj, pm: Obj, card: cards.TestCard) -> StripeError:
    err = {"code": card.code, "decline_code": card.decline_code, "message": card.message,
           "payment_method": app.render(pm), "type": "card_error",
           "doc_url": f"https://stripe.com/docs/error-codes/{card.code.replace('_', '-')}"}
    si.update(status="requires_payment_method", last_setup_error=err, payment_method=None, next_action=None)
    app.emit("setup_intent.setup_failed", si)
    return card_error(card, {"setup_intent": app.render(si)})


def confirm_setup_intent(app: Sandbox, si: Obj, pm: Obj, return_url: str | None = None) -> Obj:
    """Set up ``pm``: attach it on success, 3-D Secure where the card (or the request) wants it, else a 402."""
    customer = app.store.get(si["customer"], "customer") if si.get("customer") else None
    if pm.get("customer") and si.get("customer") != pm["customer"]:
        raise invalid("payment_method", f"The PaymentMethod provided ({pm['id']}) belongs to customer "
                      f"{pm['customer']}. Please include the Customer in the `customer` parameter on the "
                      "SetupIntent.", "payment_method_unexpected_state")
    si["payment_method"] = pm["id"]
    si["last_setup_error"] = None
    card = card_of(pm)
    if card is not None and card.behaviour == cards.DECLINE:
        raise _setup_intent_error(app, si, pm, card)
    if card is not None and (card.behaviour in AUTHENTICATE_ON_SETUP or challenge_requested(si)):
        si["status"] = "requires_action"
        si["next_action"] = {"type": "redirect_to_url", "redirect_to_url": {
            "return_url": return_url, "url": f"{app.base_url}/3ds/{si['id']}"}}
        si["_return_url"] = return_url
        app.emit("setup_intent.requires_action", si)
        return si
    return finish_setup_intent(app, si, pm, customer)


def finish_setup_intent(app: Sandbox, si: Obj, pm: Obj, customer: Obj | None) -> Obj:
    if customer is not None:
        attach(app, pm, customer)
    if si["usage"] == "off_session":  # cards like 4000002500003155 then pay off-session without 3-D Secure
        pm["_setup_off_session"] = True
    si.update(status="succeeded", next_action=None)
    app.emit("setup_intent.succeeded", si)
    for hook in ON_SETUP_SUCCEEDED:
        hook(app, si)
    return si


def fail_setup_authentication(app: Sandbox, si: Obj) -> Obj:
    pm = app.store.get(si["payment_method"], "payment_method") if si.get("payment_method") else None
    si.update(status="requires_payment_method", next_action=None, payment_method=None, last_setup_error={
        "code": "setup_intent_authentication_failure",
        "doc_url": "https://stripe.com/docs/error-codes/setup-intent-authentication-failure",
        "message": "The latest attempt to set up the payment method has failed because authentication failed.",
        "payment_method": app.render(pm) if pm else None,
        "type": "invalid_request_error",
    })
    app.emit("setup_intent.setup_failed", si)
    return si


def create_setup_intent(app: Sandbox, *, customer: str | None, usage: str = "off_session",
                        description: str | None = None, metadata: dict[str, str] | None = None,
                        internal: Obj | None = None) -> Obj:
    si_id = new_id("seti_")
    si: Obj = {
        "id": si_id, "object": "setup_intent", "application": None, "automatic_payment_methods": None,
        "cancellation_reason": None, "client_secret": f"{si_id}_secret_{new_id('', 25)}", "created": app.now(),
        "customer": customer, "customer_account": None, "description": description,
        "excluded_payment_method_types": None, "flow_directions": None, "last_setup_error": None,
        "latest_attempt": None, "livemode": False, "mandate": None, "metadata": metadata or {},
        "next_action": None, "on_behalf_of": None, "payment_method": None,
        "payment_method_configuration_details": None,
        "payment_method_options": {"card": {"mandate_options": None, "network": None,
                                            "request_three_d_secure": "automatic"}},
        "payment_method_types": ["card"], "single_use_mandate": None, "status": "requires_payment_method",
        "usage": usage, **(internal or {}),
    }
    app.add(si)
    app.emit("setup_intent.created", si)
    return si


def _set_three_d_secure(si: Obj, p: Params) -> None:
    requested = three_d_secure_request(p)
    if requested is not None:
        si["payment_method_options"]["card"]["request_three_d_secure"] = requested


def _not_checkout_managed(app: Sandbox, si: Obj, action: str) -> None:
    if si.get("_checkout_session"):
        raise unexpected_state(f"You cannot {action} this SetupIntent because it belongs to Checkout Session "
                               f"{si['_checkout_session']}. Expire the Checkout Session instead.",
                               "setup_intent_unexpected_state", {"setup_intent": app.render(si)})


# -------------------------------------------------------------------------------- routes
@api("POST", "/v1/setup_intents")
def setup_intents_create(req: Request) -> Obj:
    app, p = req.app, req.p
    p.allow("customer", "payment_method", "payment_method_data", "confirm", "usage", "payment_method_types",
            "metadata", "description", "automatic_payment_methods", "return_url", "payment_method_options")
    customer = app.get("customer", p.req("customer"), "customer") if p.str("customer") else None
    usage = p.str("usage", "off_session")
    if usage not in ("off_session", "on_session"):
        raise invalid("usage", "Invalid usage: must be one of off_session or on_session",
                      "parameter_invalid_string")
    types = [str(t) for t in p.list("payment_method_types")]
    if set(types) - {"card"}:
        raise invalid("payment_method_types", "The sandbox only sets up cards (payment_method_types: card).",
                      "parameter_invalid_string")
    apm = p.sub("automatic_payment_methods")
    apm.allow("enabled", "allow_redirects")
    if apm.bool("enabled") and types:
        raise invalid("automatic_payment_methods", "You may only specify one of these parameters: "
                      "automatic_payment_methods, payment_method_types.")
    if "return_url" in p and not p.bool("confirm"):
        raise invalid("return_url", "return_url can only be used when confirm=true.")
    si = create_setup_intent(app, customer=customer["id"] if customer else None, usage=usage,
                             description=p.str("description"), metadata=metadata_update({}, p.raw("metadata")))
    if apm.bool("enabled"):
        si["automatic_payment_methods"] = {"allow_redirects": apm.str("allow_redirects", "always"), "enabled": True}
    _set_three_d_secure(si, p)
    pm = payment_method_param(app, p)
    if pm is not None:
        si.update(payment_method=pm["id"], status="requires_confirmation")
        if p.bool("confirm"):
            confirm_setup_intent(app, si, pm, p.str("return_url"))
    elif p.bool("confirm"):
        raise invalid("payment_method", "You cannot confirm this SetupIntent because it's missing a payment "
                      "method.", "setup_intent_unexpected_state")
    return app.render(si)


@publishable("GET", "/v1/setup_intents/{id}")
def setup_intents_retrieve(req: Request) -> Obj:
    return retrieve_intent(req, "setup_intent")


@api("POST", "/v1/setup_intents/{id}")
def setup_intents_update(req: Request) -> Obj:
    app, p = req.app, req.p
    p.allow("metadata", "description", "payment_method", "payment_method_data", "customer",
            "payment_method_options")
    si = app.get("setup_intent", req.args["id"])
    if si["status"] not in ("requires_payment_method", "requires_confirmation") and \
            set(p.data) - {"metadata", "description", "expand"}:
        raise unexpected_state(f"You cannot update this SetupIntent's payment details because it has a status of "
                               f"{si['status']}.", "setup_intent_unexpected_state", {"setup_intent": app.render(si)})
    if "metadata" in p:
        si["metadata"] = metadata_update(si["metadata"], p.raw("metadata"))
    if "description" in p:
        si["description"] = nullable_str(p.raw("description"), "description")
    if p.str("customer"):
        si["customer"] = app.get("customer", p.req("customer"), "customer")["id"]
    _set_three_d_secure(si, p)
    pm = payment_method_param(app, p)
    if pm is not None:
        si.update(payment_method=pm["id"], status="requires_confirmation")
    return app.render(si)


@publishable("POST", "/v1/setup_intents/{id}/confirm")
def setup_intents_confirm(req: Request) -> Obj:
    """Server-side (secret key) or client-side (publishable key + ``client_secret``) confirmation."""
    app, p = req.app, req.p
    p.allow(*CONFIRM_PARAMS)
    si = app.get("setup_intent", req.args["id"])
    check_client_secret(req, si)
    _not_checkout_managed(app, si, "confirm")
    if si["status"] not in ("requires_payment_method", "requires_confirmation"):
        raise unexpected_state(f"You cannot confirm this SetupIntent because it has a status of {si['status']}.",
                               "setup_intent_unexpected_state", {"setup_intent": client_view(req, app, si)})
    _set_three_d_secure(si, p)
    pm = payment_method_param(app, p) or (app.get("payment_method", si["payment_method"])
                                     if si.get("payment_method") else None)
    if pm is None:
        raise invalid("payment_method", "You cannot confirm this SetupIntent because it's missing a payment "
                      "method.", "setup_intent_unexpected_state")
    try:
        confirm_setup_intent(app, si, pm, p.str("return_url"))
    except StripeError as err:
        raise visible_error(req, err) from None
    return client_view(req, app, si)


@api("POST", "/v1/setup_intents/{id}/cancel")
def setup_intents_cancel(req: Request) -> Obj:
    app, p = req.app, req.p
    p.allow("cancellation_reason")
    si = app.get("setup_intent", req.args["id"])
    reason = p.str("cancellation_reason")
    if reason is not None and reason not in CANCELLATION_REASONS:
        raise invalid("cancellation_reason", "Invalid cancellation_reason: must be one of abandoned, "
                      "requested_by_customer or duplicate", "parameter_invalid_string")
    _not_checkout_managed(app, si, "cancel")
    if si["status"] in ("succeeded", "canceled"):
        raise unexpected_state(f"You cannot cancel this SetupIntent because it has a status of {si['status']}.",
                               "setup_intent_unexpected_state", {"setup_intent": app.render(si)})
    cancel_setup_intent(app, si, reason)
    return app.render(si)


def cancel_setup_intent(app: Sandbox, si: Obj, reason: str | None) -> None:
    si.update(status="canceled", cancellation_reason=reason, next_action=None)
    app.emit("setup_intent.canceled", si)


@api("GET", "/v1/setup_intents")
def setup_intents_list(req: Request) -> Obj:
    app, p = req.app, req.p
    p.allow("customer", "payment_method", "created", "limit", "starting_after", "ending_before")
    objs = app.store.all("setup_intent")
    for key in ("customer", "payment_method"):
        if p.str(key):
            objs = [o for o in objs if o[key] == p.str(key)]
    return app.list_response(objs, p, "/v1/setup_intents")
