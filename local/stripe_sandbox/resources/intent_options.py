"""Parameters PaymentIntents share between create, update and confirm (capture, future usage, shipping);
charges and customers take the same ``shipping``."""

from __future__ import annotations

from ..app import Obj
from ..errors import invalid
from ..forms import Params
from ._util import EMPTY_ADDRESS, address

CAPTURE_METHODS = ("automatic", "automatic_async", "manual")
# An uncaptured card authorization lapses after 7 days (Stripe's window for customer-initiated payments)
AUTHORIZATION_WINDOW = 7 * 24 * 3600
FUTURE_USAGES = ("on_session", "off_session")
SHIPPING = ("address", "name", "phone", "carrier", "tracking_number")
# What a publishable key may send to POST /v1/payment_intents/{id}/confirm (Stripe.js's confirmCardPayment)
CONFIRM_PUBLISHABLE = ("client_secret", "payment_method", "payment_method_data", "return_url", "setup_future_usage",
                       "receipt_email", "shipping", "payment_method_options")
# ... and what a secret key may send besides
CONFIRM_SECRET = (*CONFIRM_PUBLISHABLE, "off_session", "error_on_requires_action", "capture_method",
                  "payment_method_types")


def _one_of(p: Params, key: str, allowed: tuple[str, ...]) -> str | None:
    value = p.str(key)
    if value is not None and value not in allowed:
        raise invalid(p.name(key), f"Invalid {key}: must be one of {', '.join(allowed)}", "parameter_invalid_string")
    return value


def capture_method(p: Params) -> str | None:
    return _one_of(p, "capture_method", CAPTURE_METHODS)


def setup_future_usage(p: Params) -> str | None:
    return _one_of(p, "setup_future_usage", FUTURE_USAGES)


def shipping(p: Params, *, tracking: bool = True) -> Obj | None:
    """``shipping[…]`` as Stripe stores it (``name`` and ``address[line1]`` required); ``shipping=`` clears it.
    A customer's shipping has no ``carrier`` / ``tracking_number`` (``tracking=False``)."""
    s = p.sub("shipping")
    s.allow(*(SHIPPING if tracking else SHIPPING[:3]))
    s.sub("address").allow(*EMPTY_ADDRESS)
    if not s.data:
        return None
    s.req("name")
    s.sub("address").req("line1")
    result = {"address": address(s.raw("address")), "name": s.str("name"), "phone": s.str("phone")}
    if tracking:
        result.update(carrier=s.str("carrier"), tracking_number=s.str("tracking_number"))
    return result
