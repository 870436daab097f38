"""The hosted pages in a real browser (headless Chromium through Playwright)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import stripe

pytestmark = pytest.mark.browser



@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context()
    p = context.new_page()
    p.set_default_timeout(10_000)
    yield p
    context.close()


@pytest.fixture
def session(client: stripe.StripeClient) -> Any:
    product = client.v1.products.create(params={"name": "Browser course"})
    price = client.v1.prices.create(params={"product": product.id, "unit_amount": 4900, "currency": "usd"})
    return client.v1.checkout.sessions.create(params={
        "mode": "payment", "customer_creation": "always", "line_items": [{"price": price.id, "quantity": 1}],
        "success_url": "http://127.0.0.1:9/success?session_id={CHECKOUT_SESSION_ID}",
        "cancel_url": "http://127.0.0.1:9/cancel"})


def _fill(page: Any, card: str) -> None:
    page.fill("#email", "grace@example.com")
    page.fill("#name", "Grace Hopper")
    page.fill("#card_number", card)
    page.fill("#exp", "12/34")
    page.fill("#cvc", "123")


def _pay_and_wait_for_success(page: Any, click: str, success_prefix: str) -> str:
    # the success URL points at a closed port: capture the navigation request instead of loading it
    with page.expect_request(lambda r: r.url.startswith(success_prefix)) as req:
        page.click(click)
    return str(req.value.url)


def test_hosted_checkout_in_browser(page, session, client, control, receiver, endpoint) -> None:
    page.goto(session.url)
    assert "Browser course" in page.content()
    assert page.inner_text("#total") == "$49.00"
    _fill(page, "4242 4242 4242 4242")
    url = _pay_and_wait_for_success(page, "#pay", "http://127.0.0.1:9/success")
    assert url == f"http://127.0.0.1:9/success?session_id={session.id}"
    done = client.v1.checkout.sessions.retrieve(session.id)
    assert (done.status, done.payment_status) == ("complete", "paid")
    assert done.customer_details is not None
    assert (done.customer_details.email, done.customer_details.name) == ("grace@example.com", "Grace Hopper")
    control.flush()
    received = receiver.types()
    assert "checkout.session.completed" in received
    assert "payment_intent.succeeded" in received
    completed = next(e for e in receiver.events() if e["type"] == "checkout.session.completed")
    assert completed["data"]["object"]["id"] == session.id


def test_declined_card_shows_error_then_succeeds(page, session, client) -> None:
    page.goto(session.url)
    _fill(page, "4000000000000002")
    page.click("#pay")
    assert "Your card was declined." in page.inner_text("#error")
    assert client.v1.checkout.sessions.retrieve(session.id).status == "open"
    page.fill("#card_number", "4242424242424242")
    url = _pay_and_wait_for_success(page, "#pay", "http://127.0.0.1:9/success")
    assert session.id in url


def test_cancel_link(page, session) -> None:
    page.goto(session.url)
    with page.expect_request(lambda r: r.url == "http://127.0.0.1:9/cancel"):
        page.click("#cancel")


@pytest.mark.parametrize("button", ["#complete", "#fail"])
def test_three_d_secure_page(page, session, client, button) -> None:
    page.goto(session.url)
    _fill(page, "4000002500003155")
    page.click("#pay")
    page.wait_for_url("**/3ds/pi_*")
    assert "Authenticate this payment" in page.content()
    if button == "#complete":
        url = _pay_and_wait_for_success(page, button, "http://127.0.0.1:9/success")
        assert session.id in url
        assert client.v1.checkout.sessions.retrieve(session.id).payment_status == "paid"
    else:
        page.click(button)
        page.wait_for_url(f"**/c/pay/{session.id}?error=*")
        assert "failed authentication" in page.inner_text("#error")
        done = client.v1.checkout.sessions.retrieve(session.id, params={"expand": ["payment_intent"]})
        assert done.status == "open"
        assert done.payment_intent.status == "requires_payment_method"


def test_three_d_secure_page_for_api_payment_intent(page, client) -> None:
    pi = client.v1.payment_intents.create(params={
        "amount": 1200, "currency": "usd", "payment_method": "pm_card_authenticationRequired", "confirm": True,
        "return_url": "http://127.0.0.1:9/return"})
    assert pi.next_action is not None
    assert pi.next_action.redirect_to_url is not None
    page.goto(pi.next_action.redirect_to_url.url)
    with page.expect_request(lambda r: r.url.startswith("http://127.0.0.1:9/return")) as req:
        page.click("#complete")
    assert f"payment_intent={pi.id}" in req.value.url
    assert "redirect_status=succeeded" in req.value.url
    assert client.v1.payment_intents.retrieve(pi.id).status == "succeeded"
