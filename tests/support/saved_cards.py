"""What a frontend does with ``POST /me/cards/setup``'s answer: Stripe.js's ``confirmCardSetup``, with only the
publishable key and the SetupIntent's client secret (never the secret key)."""

from __future__ import annotations

from typing import Any

import stripe


def confirm_card_setup(api_base: str, setup: dict[str, Any], card_number: str = "4242424242424242") -> Any:
    browser = stripe.StripeClient(setup["publishable_key"], base_addresses={"api": api_base})
    return browser.v1.setup_intents.confirm(setup["setup_intent_id"], params={
        "client_secret": setup["client_secret"],
        "payment_method_data": {"type": "card", "card": {"number": card_number, "exp_month": 12, "exp_year": 2040,
                                                         "cvc": "123"}}})
