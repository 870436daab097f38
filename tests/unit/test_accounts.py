"""Accounts function with moto's Cognito and DynamoDB in-process."""

from __future__ import annotations

import pytest

from tests.support.api_events import body_of, claims_for, http_event

PASSWORD = "Str0ngPassword"


@pytest.fixture
def accounts(load_function):
    return load_function("AccountsFunction", "accounts")


def call(module, lambda_context, *args, **kwargs):
    return module.lambda_handler(http_event(*args, **kwargs), lambda_context)


def register(module, ctx, email="ada@example.com", password=PASSWORD, name="Ada"):
    return call(module, ctx, "POST", "/auth/register", body={"email": email, "password": password, "name": name})


def test_register_creates_a_student_who_can_log_in(accounts, lambda_context, aws):
    response = register(accounts, lambda_context, email="Ada@Example.com ")
    assert response["statusCode"] == 201
    profile = body_of(response)
    assert profile["email"] == "ada@example.com"
    assert profile["groups"] == ["students"]

    pool = aws.name("UserPool")
    groups = aws.client("cognito-idp").admin_list_groups_for_user(UserPoolId=pool, Username="ada@example.com")
    assert [g["GroupName"] for g in groups["Groups"]] == ["students"]

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
    assert [entry["action"] for entry in audit] == ["account.registered"]


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
    response = call(accounts, lambda_context, "POST", "/auth/register", body=body)
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


def test_temporary_password_requires_a_new_one_at_first_login(accounts, lambda_context, aws):
    pool = aws.name("UserPool")
    aws.client("cognito-idp").admin_create_user(
        UserPoolId=pool, Username="new@example.com", TemporaryPassword="Temp0rary!pw", MessageAction="SUPPRESS",
        UserAttributes=[{"Name": "email", "Value": "new@example.com"}])
    first = body_of(call(accounts, lambda_context, "POST", "/auth/login",
                         body={"email": "new@example.com", "password": "Temp0rary!pw"}))
    assert first["challenge"] == "NEW_PASSWORD_REQUIRED"
    done = call(accounts, lambda_context, "POST", "/auth/new-password",
                body={"email": "new@example.com", "session": first["session"], "new_password": "Brand0Newpw"})
    assert done["statusCode"] == 200
    assert body_of(done)["access_token"]
    again = call(accounts, lambda_context, "POST", "/auth/login",
                 body={"email": "new@example.com", "password": "Brand0Newpw"})
    assert "access_token" in body_of(again)


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
