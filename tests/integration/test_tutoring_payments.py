"""Tutoring marketplace, students' money, through the local stack and the Stripe sandbox: a card saved in a real
browser on the sandbox's save-card page (Stripe.js's client-side SetupIntent confirmation with the publishable key),
listed, made default and removed, only the owner's."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

import pytest

from local.stack.seed import DEMO_PASSWORD
from tests.support.accounts import register_verified
from tests.support.saved_cards import confirm_card_setup


@pytest.fixture(scope="module")
def student(api: Any, stack: Any, login: Callable[..., dict[str, Any]]) -> Callable[[], str]:
    """``student()``: a freshly registered student's access token."""

    def register() -> str:
        email = f"tutee-{uuid.uuid4().hex[:8]}@example.com"
        register_verified(api, stack, email, DEMO_PASSWORD, "Tia Tutee")
        return str(login(email)["access_token"])

    return register


def save_card_in_browser(browser: Any, stack: Any, setup: dict[str, Any], card: str = "4242 4242 4242 4242") -> str:
    """What the student does on the frontend's save-card form (the sandbox's page stands in for it)."""
    context = browser.new_context()
    page = context.new_page()
    page.set_default_timeout(15_000)
    try:
        page.goto(f"{stack.stripe_url}/save_card?"
                  + urlencode({"client_secret": setup["client_secret"], "key": setup["publishable_key"]}))
        page.fill("#name", "Tia Tutee")
        page.fill("#card_number", card)
        page.fill("#exp", "12 / 34")
        page.fill("#cvc", "123")
        page.click("#save")
        page.wait_for_url("**/save_card/result?**")
        page.wait_for_selector("#status[data-status=succeeded]")
        return str(page.inner_text("#payment_method"))
    finally:
        context.close()


def cards_of(api: Any, token: str) -> list[dict[str, Any]]:
    listed = api.get("/me/cards", token=token)
    assert listed.status_code == 200, listed.text
    return list(listed.json()["items"])


@pytest.mark.browser
def test_cards_saved_in_the_browser_are_listed_made_default_and_removed_only_by_their_owner(api, stack, student,
                                                                                           browser):
    token, other = student(), student()
    setup = api.post("/me/cards/setup", token=token)
    assert setup.status_code == 201, setup.text
    visa = save_card_in_browser(browser, stack, setup.json())
    second = api.post("/me/cards/setup", token=token).json()
    mastercard = confirm_card_setup(stack.stripe_url, second, "5555555555554444").payment_method
    theirs = confirm_card_setup(stack.stripe_url, api.post("/me/cards/setup", token=other).json()).payment_method

    assert sorted((c["payment_method_id"], c["brand"], c["last4"], c["default"]) for c in cards_of(api, token)) \
        == sorted([(visa, "visa", "4242", False), (mastercard, "mastercard", "4444", False)])
    made = api.post(f"/me/cards/{mastercard}/default", token=token)
    assert (made.status_code, made.json()["default"]) == (200, True)
    assert [c["payment_method_id"] for c in cards_of(api, token) if c["default"]] == [mastercard]

    for response in (api.post(f"/me/cards/{theirs}/default", token=token), api.delete(f"/me/cards/{theirs}",
                                                                                        token=token)):
        assert response.status_code == 404, response.text
    assert [c["payment_method_id"] for c in cards_of(api, other)] == [theirs]

    removed = api.delete(f"/me/cards/{mastercard}", token=token)
    assert removed.status_code == 204, removed.text
    assert [(c["payment_method_id"], c["default"]) for c in cards_of(api, token)] == [(visa, False)]
