"""A payment-first purchase through the local stack, as a buyer makes it: the anonymous sign-up checkout for the
DP track, then the sandbox's hosted checkout page paid with a test card (the webhook then fulfils it)."""

from __future__ import annotations

import uuid

import requests

from local.stack.stack import LocalStack


def buy(stack: LocalStack, http: requests.Session, email: str) -> str:
    """Makes one purchase and returns its Checkout Session id once Stripe has completed the session."""
    body: dict[str, str] = {"success_url": f"{stack.api_url}/payment/success",
                            "cancel_url": f"{stack.api_url}/get-started"}
    if "TermsVersion" in stack.parameters:  # a sign-up accepts the current terms
        body["accepted_terms_version"] = str(stack.parameters["TermsVersion"])
    signup = http.post(f"{stack.api_url}/tracks/DP/signup-checkout", headers={"Idempotency-Key": uuid.uuid4().hex},
                       json=body, timeout=30)
    assert signup.status_code == 201, signup.text
    session_id = str(signup.json()["session_id"])
    paid = http.post(f"{stack.stripe_url}/_sandbox/checkout/sessions/{session_id}/complete", timeout=60, json={
        "email": email, "name": "Test Buyer", "card_number": "4242424242424242", "exp": "12/40", "cvc": "123"})
    assert paid.json()["outcome"] == "complete", paid.text
    return session_id
