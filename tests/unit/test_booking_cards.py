"""Saved cards (booking payments function): SetupIntent for the caller's one Stripe Customer, confirmed the way
Stripe.js does it, then listed, made default and removed, only the owner's. moto + the Stripe sandbox in-process."""

from __future__ import annotations

import json
import os
import urllib.request

import pytest

from coursepay.accounts.models import Profile
from coursepay.accounts.repository import AccountsRepository
from coursepay.settings import load_settings
from tests.conftest import TEST_STRIPE_KEYS
from tests.support.api_events import body_of, claims_for, http_event
from tests.support.course_market import running_sandbox
from tests.support.saved_cards import confirm_card_setup

STUDENT, OTHER = "student-1", "student-2"


class Cards:
    def __init__(self, module, sandbox, context) -> None:
        self.module = module
        self.sandbox = sandbox
        self.context = context

    def call(self, method, path, *, route=None, user=STUDENT):
        event = http_event(method, path, route=route, claims=claims_for(user, "students") if user else None)
        response = self.module.lambda_handler(event, self.context)
        return response["statusCode"], body_of(response)

    def save(self, user=STUDENT, card="4242424242424242"):
        status, setup = self.call("POST", "/me/cards/setup", user=user)
        assert status == 201, setup
        intent = confirm_card_setup(self.sandbox.url, setup, card)
        assert intent.status == "succeeded"
        return intent.payment_method

    def listed(self, user=STUDENT):
        status, body = self.call("GET", "/me/cards", user=user)
        assert status == 200, body
        return body["items"]

    def default(self, pm_id, user=STUDENT):
        return self.call("POST", f"/me/cards/{pm_id}/default", route="/me/cards/{pmId}/default", user=user)

    def remove(self, pm_id, user=STUDENT):
        return self.call("DELETE", f"/me/cards/{pm_id}", route="/me/cards/{pmId}", user=user)


@pytest.fixture
def cards(load_function, monkeypatch, lambda_context):
    with running_sandbox() as sandbox:
        module = load_function("BookingPaymentsFunction", "booking_payments")
        monkeypatch.setenv("STRIPE_API_BASE", sandbox.url)
        load_settings.cache_clear()
        for user_id in (STUDENT, OTHER):
            AccountsRepository(os.environ["ACCOUNTS_TABLE"]).save_profile(
                Profile(user_id=user_id, email=f"{user_id}@example.com", name=user_id, created_at="2026-01-01"))
        yield Cards(module, sandbox, lambda_context)


def test_setup_gives_the_frontend_a_client_secret_for_the_users_one_customer(cards) -> None:
    status, first = cards.call("POST", "/me/cards/setup")
    assert status == 201, first
    assert set(first) == {"setup_intent_id", "client_secret", "publishable_key"}
    assert first["publishable_key"] == TEST_STRIPE_KEYS["publishable_key"]
    assert first["client_secret"].startswith(f"{first['setup_intent_id']}_secret_")
    _, second = cards.call("POST", "/me/cards/setup")
    stripe = cards.module.cards()._stripe()
    intents = [stripe.v1.setup_intents.retrieve(s["setup_intent_id"]) for s in (first, second)]
    assert {intent.customer for intent in intents} == {intents[0].customer}  # one Stripe Customer per user
    assert {intent.usage for intent in intents} == {"off_session"}


def test_saved_cards_are_listed_with_brand_last4_expiry_and_default(cards) -> None:
    assert cards.listed() == []
    visa = cards.save()
    mastercard = cards.save(card="5555555555554444")
    listed = {card["payment_method_id"]: card for card in cards.listed()}
    assert listed[visa] == {"payment_method_id": visa, "brand": "visa", "last4": "4242", "exp_month": 12,
                            "exp_year": 2040, "default": False}
    assert (listed[mastercard]["brand"], listed[mastercard]["last4"]) == ("mastercard", "4444")

    status, made = cards.default(mastercard)
    assert status == 200, made
    assert made["default"] is True
    assert {card["payment_method_id"] for card in cards.listed() if card["default"]} == {mastercard}
    cards.default(visa)
    assert {card["payment_method_id"] for card in cards.listed() if card["default"]} == {visa}


def test_a_removed_card_is_gone(cards) -> None:
    visa = cards.save()
    cards.default(visa)
    status, body = cards.remove(visa)
    assert status == 204, body
    assert cards.listed() == []
    assert cards.remove(visa)[0] == 404


def test_only_the_owners_cards(cards) -> None:
    mine = cards.save()
    theirs = cards.save(user=OTHER)
    assert [card["payment_method_id"] for card in cards.listed()] == [mine]
    for status, body in (cards.default(theirs), cards.remove(theirs)):
        assert status == 404, body
        assert body["error"]["code"] == "not_found"
    assert cards.default("pm_doesnotexist")[0] == 404
    assert cards.default("pm_card_visa")[0] == 404  # a test card attached to nobody: not the caller's
    assert cards.default("not-a-pm")[0] == 404
    assert [card["payment_method_id"] for card in cards.listed(user=OTHER)] == [theirs]  # untouched


def test_cards_need_a_signed_in_user(cards) -> None:
    assert cards.call("GET", "/me/cards", user=None)[0] == 401
    assert cards.call("POST", "/me/cards/setup", user=None)[0] == 401


def test_a_card_that_asks_for_three_d_secure_at_setup_is_saved_once_authenticated(cards) -> None:
    _, setup = cards.call("POST", "/me/cards/setup")
    intent = confirm_card_setup(cards.sandbox.url, setup, "4000002500003155")
    assert intent.status == "requires_action"
    assert cards.listed() == []
    request = urllib.request.Request(f"{cards.sandbox.url}/_sandbox/setup_intents/{intent.id}/three_d_secure",
                                     data=json.dumps({"result": "succeed"}).encode(), method="POST",
                                     headers={"Content-Type": "application/json"})
    urllib.request.urlopen(request, timeout=10).close()
    assert [card["last4"] for card in cards.listed()] == ["3155"]
