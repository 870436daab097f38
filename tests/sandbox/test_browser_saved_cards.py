"""Saving cards in a real browser (headless Chromium): the hosted save-card page (client-side SetupIntent
confirmation with the publishable key, like Stripe.js) and Checkout in mode=setup."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

import pytest
import stripe

pytestmark = pytest.mark.browser

PUBLISHABLE_KEY = "pk_test_browser_frontend"


@pytest.fixture
def customer(client: stripe.StripeClient) -> Any:
    return client.v1.customers.create(params={"email": "learner@example.com"})


@pytest.fixture
def setup_intent(client: stripe.StripeClient, customer: Any) -> Any:
    return client.v1.setup_intents.create(params={"customer": customer.id})


def _open_save_card(page: Any, sandbox: Any, si: Any, **extra: str) -> None:
    page.goto(f"{sandbox.url}/save_card?"
              + urlencode({"client_secret": si.client_secret, "key": PUBLISHABLE_KEY, **extra}))


def _fill(page: Any, card: str) -> None:
    page.fill("#name", "Lin Learner")
    page.fill("#card_number", card)
    page.fill("#exp", "12 / 34")
    page.fill("#cvc", "123")


def _saved_status(page: Any, status: str) -> str:
    page.wait_for_url("**/save_card/result?**")
    page.wait_for_selector(f"#status[data-status={status}]")
    return str(page.inner_text("#payment_method"))


def test_save_card_page_saves_the_card(page, sandbox, client, customer, setup_intent) -> None:
    _open_save_card(page, sandbox, setup_intent)
    _fill(page, "4242 4242 4242 4242")
    page.click("#save")
    pm_id = _saved_status(page, "succeeded")
    assert pm_id.startswith("pm_")
    saved = client.v1.customers.payment_methods.list(customer.id).data
    assert [pm.id for pm in saved] == [pm_id]
    assert (saved[0].card.last4, saved[0].billing_details.name) == ("4242", "Lin Learner")
    assert client.v1.setup_intents.retrieve(setup_intent.id).status == "succeeded"


@pytest.mark.parametrize(("button", "status"), [("#complete", "succeeded"), ("#fail", "requires_payment_method")])
def test_save_card_page_with_three_d_secure(page, sandbox, client, customer, setup_intent, button, status) -> None:
    _open_save_card(page, sandbox, setup_intent)
    _fill(page, "4000002760003184")
    page.click("#save")
    page.wait_for_url(f"**/3ds/{setup_intent.id}")
    assert "Saving a card for future payments." in page.content()
    page.click(button)
    pm_id = _saved_status(page, status)
    if status == "succeeded":
        assert [pm.id for pm in client.v1.customers.payment_methods.list(customer.id).data] == [pm_id]
        return
    assert "authentication failed" in page.inner_text("#error")
    assert client.v1.customers.payment_methods.list(customer.id).data == []
    page.click("#retry")  # the customer tries again with another card
    _fill(page, "4242424242424242")
    page.click("#save")
    assert _saved_status(page, "succeeded").startswith("pm_")


def test_save_card_page_shows_declines(page, sandbox, client, setup_intent) -> None:
    _open_save_card(page, sandbox, setup_intent)
    _fill(page, "4000000000000002")
    page.click("#save")
    page.wait_for_selector("#error:not([hidden])")
    assert page.inner_text("#error") == "Your card was declined."
    assert client.v1.setup_intents.retrieve(setup_intent.id).status == "requires_payment_method"
    page.fill("#card_number", "5555555555554444")
    page.click("#save")
    assert _saved_status(page, "succeeded").startswith("pm_")


def test_save_card_page_returns_to_the_frontend(page, sandbox, setup_intent) -> None:
    _open_save_card(page, sandbox, setup_intent, return_url="http://127.0.0.1:9/cards/saved?from=sandbox")
    _fill(page, "4242424242424242")
    with page.expect_request(lambda r: r.url.startswith("http://127.0.0.1:9/cards/saved")) as request:
        page.click("#save")
    url = str(request.value.url)
    assert f"setup_intent={setup_intent.id}" in url
    assert "redirect_status=succeeded" in url
    assert "from=sandbox&" in url


def test_save_card_page_rejects_a_secret_key(page, sandbox, setup_intent) -> None:
    response = page.goto(f"{sandbox.url}/save_card?"
                         + urlencode({"client_secret": setup_intent.client_secret, "key": "sk_test_oops"}))
    assert response.status == 400
    assert "publishable" in page.inner_text("#error")


@pytest.mark.parametrize(("button", "completed"), [("#complete", True), ("#fail", False)])
def test_checkout_setup_mode_in_browser(page, client, customer, button, completed) -> None:
    cs = client.v1.checkout.sessions.create(params={
        "mode": "setup", "currency": "usd", "customer": customer.id,
        "success_url": "http://127.0.0.1:9/saved?cs={CHECKOUT_SESSION_ID}", "cancel_url": "http://127.0.0.1:9/no"})
    page.goto(cs.url)
    assert page.inner_text("#pay") == "Save card"
    assert page.input_value("#email") == "learner@example.com"
    page.fill("#name", "Lin Learner")
    page.fill("#card_number", "4000 0025 0000 3155")
    page.fill("#exp", "12/34")
    page.fill("#cvc", "123")
    page.click("#pay")
    page.wait_for_url(f"**/3ds/{cs.setup_intent}")
    if completed:
        with page.expect_request(lambda r: r.url.startswith("http://127.0.0.1:9/saved")) as request:
            page.click(button)
        assert str(request.value.url) == f"http://127.0.0.1:9/saved?cs={cs.id}"
        done = client.v1.checkout.sessions.retrieve(cs.id, params={"expand": ["setup_intent"]})
        assert (done.status, done.payment_status, done.setup_intent.status) == (
            "complete", "no_payment_required", "succeeded")
        saved = client.v1.customers.payment_methods.list(customer.id).data
        assert [pm.id for pm in saved] == [done.setup_intent.payment_method]
        return
    page.click(button)
    page.wait_for_url(f"**/c/pay/{cs.id}?error=*")
    assert "authentication failed" in page.inner_text("#error")
    assert client.v1.checkout.sessions.retrieve(cs.id).status == "open"
