"""The single-use account links in-process (moto's Cognito, DynamoDB and SES): password reset, set-password
rules (weak password, reuse, a newer link, expiry), and no account enumeration."""

from __future__ import annotations

import pytest

from coursepay.accounts.tokens import AccountLinks, token_hash
from coursepay.errors import InvalidRequest
from tests.support.accounts import TERMS, link_token, mails_to
from tests.support.api_events import body_of, http_event

PASSWORD = "Str0ngPassword"
NEW_PASSWORD = "Brand0Newpw"


pytest_plugins = ("tests.support.accounts_fixtures",)


def call(module, ctx, method, path, body=None):
    response = module.lambda_handler(http_event(method, path, body=body), ctx)
    return response["statusCode"], body_of(response)


def verified_student(module, ctx, email="ada@example.com"):
    status, _ = call(module, ctx, "POST", "/auth/register", {"email": email, "password": PASSWORD, "name": "Ada",
                                                              "accepted_terms_version": TERMS})
    assert status == 201
    [mail] = mails_to(email, "Confirm your e-mail address")
    assert call(module, ctx, "POST", "/auth/verify-email", {"token": link_token(mail)})[0] == 200


def login(module, ctx, email, password):
    return call(module, ctx, "POST", "/auth/login", {"email": email, "password": password})[0]


def test_a_reset_link_sets_a_new_password_once(accounts, lambda_context, aws):
    verified_student(accounts, lambda_context)
    assert call(accounts, lambda_context, "POST", "/auth/password-reset", {"email": "Ada@example.com"})[0] == 202
    [mail] = mails_to("ada@example.com", "Reset your coursepay password")
    assert "https://app.example.com/set-password?token=" in mail["body"]
    token = link_token(mail)
    # only the hash is stored
    items = str(aws.table("AccountsTable").scan()["Items"])
    assert token not in items
    assert token_hash(token) in items

    # a weak password is refused by name, and the link still works afterwards
    status, body = call(accounts, lambda_context, "POST", "/auth/set-password",
                        {"token": token, "new_password": "weakpassword"})
    assert (status, body["error"]["field"]) == (400, "new_password")
    status, body = call(accounts, lambda_context, "POST", "/auth/set-password",
                        {"token": token, "new_password": NEW_PASSWORD})
    assert (status, body) == (200, {"status": "password_set", "email": "ada@example.com"})
    assert login(accounts, lambda_context, "ada@example.com", NEW_PASSWORD) == 200
    assert login(accounts, lambda_context, "ada@example.com", PASSWORD) == 401

    status, body = call(accounts, lambda_context, "POST", "/auth/set-password",
                        {"token": token, "new_password": "An0therPassword"})
    assert (status, body["error"]["code"], body["error"]["field"]) == (400, "token_used", "token")
    assert login(accounts, lambda_context, "ada@example.com", NEW_PASSWORD) == 200


def test_a_reset_for_an_unknown_address_answers_the_same_and_sends_nothing(accounts, lambda_context):
    verified_student(accounts, lambda_context)
    known = call(accounts, lambda_context, "POST", "/auth/password-reset", {"email": "ada@example.com"})
    unknown = call(accounts, lambda_context, "POST", "/auth/password-reset", {"email": "nobody@example.com"})
    assert known == unknown
    assert mails_to("nobody@example.com", "") == []
    # asking again at once sends no second e-mail (an inbox is not flooded), and answers the same
    assert call(accounts, lambda_context, "POST", "/auth/password-reset", {"email": "ada@example.com"}) == known
    assert len(mails_to("ada@example.com", "Reset your coursepay password")) == 1
    resend = call(accounts, lambda_context, "POST", "/auth/verify-email/resend", {"email": "nobody@example.com"})
    assert resend[0] == 202


@pytest.mark.parametrize(("token", "code"), [("x" * 43, "token_unknown"), ("short", "invalid_request")])
def test_an_unknown_token_is_a_400_naming_the_token(accounts, lambda_context, token, code):
    status, body = call(accounts, lambda_context, "POST", "/auth/set-password",
                        {"token": token, "new_password": NEW_PASSWORD})
    assert (status, body["error"]["code"], body["error"]["field"]) == (400, code, "token")


def test_a_newer_link_replaces_the_older_and_links_expire(aws):
    now = [1_000_000.0]
    links = AccountLinks(aws.name("AccountsTable"), clock=lambda: now[0])
    first = links.issue("user-1", "password", valid_for_seconds=3600)
    assert links.issue("user-1", "password", valid_for_seconds=3600, cooldown_seconds=60) is None  # too soon
    now[0] += 61
    second = links.issue("user-1", "password", valid_for_seconds=3600, cooldown_seconds=60)
    assert first
    assert second
    with pytest.raises(InvalidRequest) as refused:
        links.use(first, "password")
    assert refused.value.code == "token_superseded"
    with pytest.raises(InvalidRequest) as wrong_purpose:
        links.use(second, "verify_email")
    assert wrong_purpose.value.code == "token_unknown"

    now[0] += 3600
    with pytest.raises(InvalidRequest) as expired:
        links.use(second, "password")
    assert expired.value.code == "token_expired"

    third = links.issue("user-1", "password", valid_for_seconds=3600)
    assert third
    used = links.use(third, "password")
    with pytest.raises(InvalidRequest) as reused:
        links.use(third, "password")
    assert reused.value.code == "token_used"
    links.release(used)  # the action failed: the link works again, once
    assert links.use(third, "password").user_id == "user-1"
