"""The hosted Connect onboarding page and the Express dashboard in a real browser (headless Chromium)."""

from __future__ import annotations

from typing import Any

import pytest
import stripe
from playwright.sync_api import Error as PlaywrightError

from .conftest import Receiver

pytestmark = pytest.mark.browser

RETURN_URL = "http://127.0.0.1:9/connect/return"
REFRESH_URL = "http://127.0.0.1:9/connect/refresh"


def _link(client: stripe.StripeClient, account: Any) -> Any:
    return client.v1.account_links.create(params={"account": account.id, "type": "account_onboarding",
                                                  "refresh_url": REFRESH_URL, "return_url": RETURN_URL})


def _fill(page: Any) -> None:
    page.select_option("#business_type", "individual")
    page.fill("#first_name", "Ada")
    page.fill("#last_name", "Lovelace")
    page.fill("#email", "ada@example.com")
    page.fill("#dob", "1985-12-10")
    page.fill("#ssn_last_4", "0000")
    page.fill("#business_url", "https://ada.example")
    page.fill("#routing_number", "110000000")
    page.fill("#account_number", "000123456789")


def _navigation_to(page: Any, prefix: str, click: str) -> str:
    # The return/refresh URLs are the platform's pages: answered here, so the browser lands on a page and no late
    # error-page navigation (a closed port) interrupts what the test does next.
    page.route(f"{prefix}**", lambda route: route.fulfill(status=200, content_type="text/html",
                                                          body="<p>back on the platform</p>"))
    with page.expect_request(lambda r: r.url.startswith(prefix)) as req:
        page.click(click)
    page.wait_for_url(f"{prefix}**")
    return str(req.value.url)


def test_onboarding_enables_the_account_and_notifies_connect_endpoints(page, client, control) -> None:
    connect_hook = Receiver()
    try:
        client.v1.webhook_endpoints.create(params={"url": connect_hook.url, "enabled_events": ["account.updated"],
                                                   "connect": True})
        account = client.v1.accounts.create(params={"type": "express", "email": "ada@example.com"})
        link = _link(client, account)
        page.goto(link.url)
        assert page.inner_text("#account") == account.id
        _fill(page)
        page.click("#submit")  # the terms of service are not accepted yet
        assert "Connected Account Agreement" in page.inner_text("#error")
        page.check("#tos")
        assert _navigation_to(page, RETURN_URL, "#submit") == RETURN_URL
        onboarded = client.v1.accounts.retrieve(account.id)
        assert (onboarded.charges_enabled, onboarded.payouts_enabled, onboarded.details_submitted) == (
            True, True, True)
        assert onboarded.requirements.currently_due == []
        assert onboarded.capabilities.to_dict() == {"card_payments": "active", "transfers": "active"}
        assert onboarded.external_accounts.data[0].last4 == "6789"
        assert onboarded.tos_acceptance.date is not None
        control.flush()
        [event] = connect_hook.events()
        assert (event["type"], event["account"]) == ("account.updated", account.id)
        assert event["data"]["object"]["charges_enabled"] is True
        assert event["data"]["previous_attributes"]["charges_enabled"] is False
        # an account link is single-use: the next visit goes to refresh_url
        with page.expect_request(lambda r: r.url.startswith(REFRESH_URL)), pytest.raises(PlaywrightError):
            page.goto(link.url)  # the redirect target is a closed port
    finally:
        connect_hook.close()


def test_onboarding_form_reports_missing_fields(page, client) -> None:
    account = client.v1.accounts.create(params={"type": "express"})
    page.goto(_link(client, account).url)
    page.fill("#first_name", "Ada")
    page.check("#tos")
    page.click("#submit")
    assert "last_name" in page.inner_text("#error")
    assert page.input_value("#first_name") == "Ada"
    assert client.v1.accounts.retrieve(account.id).details_submitted is False


def test_login_link_opens_the_express_dashboard(page, client) -> None:
    account = client.v1.accounts.create(params={"type": "express"})
    page.goto(_link(client, account).url)
    _fill(page)
    page.check("#tos")
    _navigation_to(page, RETURN_URL, "#submit")
    client.v1.payment_intents.create(params={"amount": 5_000, "currency": "usd", "confirm": True,
                                             "payment_method": "pm_card_visa",
                                             "transfer_data": {"destination": account.id}})
    login = client.v1.accounts.login_links.create(account.id)
    assert login.object == "login_link"
    page.goto(login.url)
    assert page.inner_text("#account") == account.id
    assert page.inner_text("#pending") == "$50.00"
    assert page.inner_text("#available") == "$0.00"
