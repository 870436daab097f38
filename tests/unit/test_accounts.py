"""Accounts function with moto's Cognito, DynamoDB and SES in-process: registration with consent, sign-in,
refresh, profile, promotion. The e-mailed links: tests/unit/test_account_links.py; export and deletion:
tests/unit/test_account_personal_data.py."""

from __future__ import annotations

import pytest

from tests.support.accounts import TERMS, link_token, mails_to
from tests.support.api_events import body_of, claims_for, http_event

PASSWORD = "Str0ngPassword"


pytest_plugins = ("tests.support.accounts_fixtures",)


def call(module, lambda_context, *args, **kwargs):
    return module.lambda_handler(http_event(*args, **kwargs), lambda_context)


def register(module, ctx, email="ada@example.com", password=PASSWORD, name="Ada", verify=True):
    response = call(module, ctx, "POST", "/auth/register",
                    body={"email": email, "password": password, "name": name, "accepted_terms_version": TERMS})
    if verify and response["statusCode"] == 201:
        [mail] = mails_to(body_of(response)["email"], "Confirm your e-mail address")
        verified = call(module, ctx, "POST", "/auth/verify-email", body={"token": link_token(mail)})
        assert verified["statusCode"] == 200, verified
    return response


def test_register_creates_a_student_who_verifies_the_e_mail_then_logs_in(accounts, lambda_context, aws):
    response = register(accounts, lambda_context, email="Ada@Example.com ", verify=False)
    assert response["statusCode"] == 201
    profile = body_of(response)
    assert profile["email"] == "ada@example.com"
    assert profile["groups"] == ["students"]
    assert (profile["email_verified"], profile["terms_version"]) == (False, TERMS)

    pool = aws.name("UserPool")
    groups = aws.client("cognito-idp").admin_list_groups_for_user(UserPoolId=pool, Username="ada@example.com")
    assert [g["GroupName"] for g in groups["Groups"]] == ["students"]

    # the right password, but an unconfirmed address: refused until the e-mailed link is used
    early = call(accounts, lambda_context, "POST", "/auth/login",
                 body={"email": "ada@example.com", "password": PASSWORD})
    assert early["statusCode"] == 403
    assert body_of(early)["error"]["code"] == "email_not_verified"
    [mail] = mails_to("ada@example.com", "Confirm your e-mail address")
    assert mail["body"].count("https://app.example.com/verify-email?token=") == 1
    token = link_token(mail)
    verified = call(accounts, lambda_context, "POST", "/auth/verify-email", body={"token": token})
    assert body_of(verified) == {"status": "email_verified", "email": "ada@example.com"}
    again = call(accounts, lambda_context, "POST", "/auth/verify-email", body={"token": token})
    assert (again["statusCode"], body_of(again)["error"]["code"]) == (400, "token_used")

    login = call(accounts, lambda_context, "POST", "/auth/login",
                 body={"email": "ada@example.com", "password": PASSWORD})
    assert login["statusCode"] == 200
    tokens = body_of(login)
    assert tokens["access_token"]
    assert tokens["id_token"]
    assert tokens["refresh_token"]

    refreshed = call(accounts, lambda_context, "POST", "/auth/refresh", body={"refresh_token": tokens["refresh_token"]})
    assert refreshed["statusCode"] == 200
    assert body_of(refreshed)["access_token"]

    audit = aws.table("AuditTable").scan()["Items"]
    assert sorted(entry["action"] for entry in audit) == ["account.consent_recorded", "account.email_verified",
                                                          "account.registered"]
    assert "ada@example.com" not in str(audit)  # the audit trail outlives the account: no e-mail in it
    me = body_of(call(accounts, lambda_context, "GET", "/me", claims=claims_for(profile["user_id"], "students")))
    assert (me["email_verified"], me["terms_version"]) == (True, TERMS)


def test_registration_requires_accepting_the_current_terms_and_stores_the_version(accounts, lambda_context, aws):
    body = {"email": "ada@example.com", "password": PASSWORD, "name": "Ada"}
    for refused in ({**body}, {**body, "accepted_terms_version": "2019-01"}):
        response = call(accounts, lambda_context, "POST", "/auth/register", body=refused)
        assert response["statusCode"] == 400
        assert body_of(response)["error"]["field"] == "accepted_terms_version"
    assert aws.client("cognito-idp").list_users(UserPoolId=aws.name("UserPool"))["Users"] == []

    terms = call(accounts, lambda_context, "GET", "/auth/terms")
    assert body_of(terms) == {"version": TERMS}
    user_id = body_of(register(accounts, lambda_context, verify=False))["user_id"]
    consents = aws.table("AccountsTable").query(
        KeyConditionExpression="pk = :pk AND begins_with(sk, :consent)",
        ExpressionAttributeValues={":pk": f"USER#{user_id}", ":consent": "CONSENT#"})["Items"]
    assert [(c["version"], c["channel"]) for c in consents] == [(TERMS, "registration")]
    assert consents[0]["accepted_at"].startswith("20")


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"email": "not-an-email", "password": PASSWORD, "name": "A"}, "email"),
        ({"email": "a@example.com", "password": "short", "name": "A"}, "password"),
        ({"email": "a@example.com", "password": "alllowercase1", "name": "A"}, "password"),
        ({"email": "a@example.com", "password": PASSWORD}, "name"),
        ({"email": "a@example.com", "password": PASSWORD, "name": "A", "role": "admins"}, "role"),
    ],
)
def test_register_rejects_bad_input_and_changes_nothing(accounts, lambda_context, aws, body, field):
    response = call(accounts, lambda_context, "POST", "/auth/register", body={"accepted_terms_version": TERMS, **body})
    assert response["statusCode"] == 400
    assert body_of(response)["error"]["field"] == field
    assert aws.client("cognito-idp").list_users(UserPoolId=aws.name("UserPool"))["Users"] == []
    assert aws.table("AccountsTable").scan()["Items"] == []


def test_register_twice_is_a_conflict(accounts, lambda_context):
    assert register(accounts, lambda_context)["statusCode"] == 201
    again = register(accounts, lambda_context)
    assert again["statusCode"] == 409
    assert body_of(again)["error"] == {"code": "conflict", "message": "an account with this e-mail already exists",
                                       "field": "email"}


def test_login_with_a_wrong_password_is_401(accounts, lambda_context):
    register(accounts, lambda_context)
    response = call(accounts, lambda_context, "POST", "/auth/login",
                    body={"email": "ada@example.com", "password": "Wr0ngPassword"})
    assert response["statusCode"] == 401
    assert body_of(response)["error"]["code"] == "unauthenticated"


def test_invalid_json_body_is_400_naming_the_body(accounts, lambda_context):
    response = accounts.lambda_handler(http_event("POST", "/auth/login", raw_body=b"{nope"), lambda_context)
    assert response["statusCode"] == 400
    assert body_of(response)["error"]["field"] == "body"


def test_me_returns_the_profile_of_the_caller(accounts, lambda_context):
    profile = body_of(register(accounts, lambda_context))
    response = call(accounts, lambda_context, "GET", "/me", claims=claims_for(profile["user_id"], "students"))
    assert response["statusCode"] == 200
    assert body_of(response)["email"] == "ada@example.com"
    assert body_of(response)["groups"] == ["students"]


def test_me_without_claims_is_401(accounts, lambda_context):
    response = call(accounts, lambda_context, "GET", "/me")
    assert response["statusCode"] == 401


def test_only_admins_promote_users(accounts, lambda_context, aws):
    student = body_of(register(accounts, lambda_context))
    refused = call(accounts, lambda_context, "POST", f"/admin/users/{student['user_id']}/groups",
                   route="/admin/users/{userId}/groups", body={"group": "teachers"},
                   claims=claims_for(student["user_id"], "students"))
    assert refused["statusCode"] == 403
    promoted = call(accounts, lambda_context, "POST", f"/admin/users/{student['user_id']}/groups",
                    route="/admin/users/{userId}/groups", body={"group": "teachers"},
                    claims=claims_for("admin-1", "admins"))
    assert promoted["statusCode"] == 200
    assert body_of(promoted)["groups"] == ["students", "teachers"]
    unknown = call(accounts, lambda_context, "POST", "/admin/users/nobody/groups",
                   route="/admin/users/{userId}/groups", body={"group": "teachers"}, claims=claims_for("a", "admins"))
    assert unknown["statusCode"] == 404


def test_a_json_body_that_api_gateway_base64_encoded_is_read(accounts, lambda_context):
    # curl -d without a content type sends form data; API Gateway hands such bodies over base64-encoded.
    import base64
    import json

    register(accounts, lambda_context)
    event = http_event("POST", "/auth/login", headers={"content-type": "application/x-www-form-urlencoded"})
    event["body"] = base64.b64encode(json.dumps({"email": "ada@example.com", "password": PASSWORD}).encode()).decode()
    event["isBase64Encoded"] = True
    response = accounts.lambda_handler(event, lambda_context)
    assert response["statusCode"] == 200
    assert body_of(response)["access_token"]
