"""Checkout Sessions in ``mode=setup``: the hosted page saves a card through the session's SetupIntent.

The SetupIntent exists from the session's creation (``setup_intent``); it belongs to the session, so the API
refuses to confirm or cancel it (expire the session instead). Completing the page confirms it (3-D Secure
through the /3ds page when the card wants it); its success completes the session with
``payment_status=no_payment_required`` and ``checkout.session.completed``.
"""

from __future__ import annotations

from ..app import Obj, Sandbox
from ..errors import StripeError, invalid
from ..forms import Params, metadata_update
from .setup_intents import cancel_setup_intent, confirm_setup_intent, create_setup_intent

SETUP_INTENT_DATA = ("description", "metadata")


def check_setup_params(p: Params) -> None:
    """What setup mode refuses or requires, checked before anything is created."""
    if "line_items" in p:
        raise invalid("line_items", "You cannot pass `line_items` in `setup` mode.")
    types = [str(t) for t in p.list("payment_method_types")]
    if set(types) - {"card"}:
        raise invalid("payment_method_types", "The sandbox's setup mode only saves cards (payment_method_types: "
                      "card).", "parameter_invalid_string")
    if not types and not p.str("currency"):
        raise StripeError(400, "You must pass `currency` in `setup` mode when `payment_method_types` is not "
                          "passed.", code="parameter_missing", param="currency")
    p.sub("setup_intent_data").allow(*SETUP_INTENT_DATA)


def prepare_setup_session(app: Sandbox, session: Obj, p: Params) -> None:
    """Nothing to pay: no amounts; the session's SetupIntent is created now."""
    data = p.sub("setup_intent_data")
    si = create_setup_intent(app, customer=session["customer"], description=data.str("description"),
                             metadata=metadata_update({}, data.raw("metadata"), "setup_intent_data[metadata]"),
                             internal={"_checkout_session": session["id"]})
    session.update(amount_subtotal=None, amount_total=None, invoice_creation=None,
                   payment_status="no_payment_required", setup_intent=si["id"], total_details=None)


def confirm_setup_session(app: Sandbox, session: Obj, pm: Obj, customer: Obj | None) -> tuple[Obj, Obj | None]:
    """Confirm the session's SetupIntent with the card from the page: (the intent, the decline or None)."""
    si = app.get("setup_intent", session["setup_intent"])
    if customer is not None and not si["customer"]:
        si["customer"] = customer["id"]
    if si["status"] == "requires_action":  # back from an unfinished 3-D Secure page with another card
        si.update(status="requires_payment_method", next_action=None)
    try:
        confirm_setup_intent(app, si, pm, return_url=f"{app.base_url}/c/pay/{session['id']}/return")
    except StripeError as err:
        return si, {"message": err.message, "code": err.code, "decline_code": err.decline_code}
    return si, None


def release_setup_intent(app: Sandbox, session: Obj) -> None:
    """An expired session takes its unfinished SetupIntent with it."""
    si = app.store.get(session.get("setup_intent") or "", "setup_intent")
    if si is not None and si["status"] not in ("succeeded", "canceled"):
        cancel_setup_intent(app, si, "abandoned")
