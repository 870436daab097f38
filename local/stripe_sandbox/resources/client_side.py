"""Client-side access to intents, the way Stripe.js makes it: a publishable key plus the intent's client secret.

A publishable key reaches only the routes marked ``@publishable`` (see server.py); on those the handler
checks the ``client_secret`` here and answers with the subset of fields Stripe documents as
"retrievable with publishable key".
"""

from __future__ import annotations

from ..app import Obj, Sandbox
from ..errors import StripeError, missing
from ..router import Request

SETUP_INTENT_FIELDS = frozenset({
    "id", "object", "cancellation_reason", "client_secret", "created", "description", "last_setup_error",
    "livemode", "next_action", "payment_method", "payment_method_types", "status", "usage",
})
PAYMENT_INTENT_FIELDS = frozenset({
    "id", "object", "amount", "canceled_at", "cancellation_reason", "capture_method", "client_secret",
    "confirmation_method", "created", "currency", "description", "last_payment_error", "livemode",
    "next_action", "payment_method", "payment_method_types", "processing", "receipt_email", "setup_future_usage",
    "shipping", "status",
})
_FIELDS = {"setup_intent": SETUP_INTENT_FIELDS, "payment_intent": PAYMENT_INTENT_FIELDS}
_LABELS = {"setup_intent": "SetupIntent", "payment_intent": "PaymentIntent"}


def is_publishable(req: Request) -> bool:
    return bool(req.api_key and req.api_key.startswith("pk_"))


def check_client_secret(req: Request, intent: Obj) -> None:
    """A publishable key must bring the intent's client secret; a secret key may (and it must then match)."""
    secret = req.p.str("client_secret")
    if secret is None:
        if is_publishable(req):
            raise missing("client_secret")
        return
    if secret != intent["client_secret"]:
        kind = intent["object"]
        raise StripeError(400, f"The client_secret provided does not match the client_secret associated with the "
                          f"{_LABELS[kind]}.", code=f"{kind}_invalid_parameter", param="client_secret")


def retrieve_intent(req: Request, kind: str) -> Obj:
    """``GET /v1/{setup,payment}_intents/{id}``: with a secret key, or a publishable key and the client secret."""
    req.p.allow("client_secret")
    intent = req.app.get(kind, req.args["id"])
    check_client_secret(req, intent)
    return client_view(req, req.app, intent)


def client_view(req: Request, app: Sandbox, intent: Obj) -> Obj:
    """The intent as the caller may see it: everything for a secret key, Stripe's subset for a publishable one."""
    return visible(req, app.render(intent))


def visible(req: Request, rendered: Obj) -> Obj:
    if not is_publishable(req):
        return rendered
    fields = _FIELDS[rendered["object"]]
    return {k: v for k, v in rendered.items() if k in fields}


def visible_error(req: Request, err: StripeError) -> StripeError:
    """A card error raised during a client-side confirm carries the intent in the caller's view."""
    for key in ("setup_intent", "payment_intent"):
        if isinstance(err.extra.get(key), dict):
            err.extra[key] = visible(req, err.extra[key])
    return err
