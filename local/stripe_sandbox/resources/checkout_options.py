"""Checkout Session options the hosted page does not act on: accepted only when they ask for nothing.

Stripe would collect a phone number, an address, tax, an invoice... when these are on; the sandbox's page
does not, so turning them on is refused (400) instead of being silently ignored.
"""

from __future__ import annotations

from ..errors import invalid
from ..forms import Params

# option -> the only value the sandbox accepts (Stripe's default)
SWITCHED_OFF = ("phone_number_collection", "automatic_tax", "invoice_creation")
DEFAULT_ONLY = {"billing_address_collection": "auto", "payment_method_collection": "always"}
PAYMENT_METHOD_TYPES = {"payment": ("card", "us_bank_account"), "subscription": ("card",), "setup": ("card",)}


def refuse_unsupported_options(p: Params, mode: str, items_currency: str | None) -> None:
    for key in SWITCHED_OFF:
        if key in p:
            option = p.sub(key)
            option.allow("enabled")
            if option.bool("enabled"):
                raise invalid(f"{key}[enabled]", f"The Stripe sandbox does not imitate {key}: only enabled=false is "
                              "accepted.", "parameter_invalid_boolean")
    for key, default in DEFAULT_ONLY.items():
        if p.str(key, default) != default:
            raise invalid(key, f"The Stripe sandbox only supports {key}={default}.", "parameter_invalid_string")
    types = [str(t) for t in p.list("payment_method_types")]
    unknown = [t for t in types if t not in PAYMENT_METHOD_TYPES[mode]]
    if unknown:
        raise invalid("payment_method_types", f"The Stripe sandbox does not offer {', '.join(unknown)} in {mode} "
                      f"mode (it offers: {', '.join(PAYMENT_METHOD_TYPES[mode])}).", "parameter_invalid_string")
    currency = p.currency(required=False)
    if currency and items_currency and currency != items_currency:
        raise invalid("currency", f"The currency provided ({currency}) must match the currency of the prices "
                      f"({items_currency}).", "parameter_invalid_string")
