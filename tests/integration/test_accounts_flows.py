"""Accounts end to end through the local stack: the payment-first buyer's set-password link, a password reset,
consent at registration, e-mail verification, the personal-data export and the account's deletion. E-mails are
read from the stack's outbox (/_local/outbox.json), as a person reads their inbox."""

from __future__ import annotations

import uuid

from tests.support.accounts import link_token, outbox_mails, register_verified
from tests.support.purchases import buy

PASSWORD = "Str0ngPassword"


def test_a_payment_first_buyer_sets_the_password_through_the_link_once_then_signs_in(api, stack, eventually,
                                                                                    login, aws):
    email = f"link-{uuid.uuid4().hex[:8]}@example.com"
    buy(stack, api.session, email)
    [welcome] = eventually(lambda: outbox_mails(api, email, "Welcome to Data Professional"), timeout=30)
    assert "password:" not in welcome["body"].lower()
    assert "set-password?token=" in welcome["body"]
    # the account exists but nobody can sign in to it yet
    users = aws.client("cognito-idp").list_users(UserPoolId=aws.name("UserPool"), Filter=f'email = "{email}"')
    assert [u["UserStatus"] for u in users["Users"]] == ["FORCE_CHANGE_PASSWORD"]

    token = link_token(welcome)
    weak = api.post("/auth/set-password", json={"token": token, "new_password": "lowercase"})
    assert (weak.status_code, weak.json()["error"]["field"]) == (400, "new_password")
    done = api.post("/auth/set-password", json={"token": token, "new_password": PASSWORD})
    assert done.status_code == 200, done.text
    again = api.post("/auth/set-password", json={"token": token, "new_password": "An0therPassword"})
    assert (again.status_code, again.json()["error"]["code"], again.json()["error"]["field"]) == (
        400, "token_used", "token")
    tokens = login(email, PASSWORD)
    me = api.get("/me", token=tokens["access_token"]).json()
    assert (me["email"], me["email_verified"]) == (email, True)
    assert api.post("/auth/login", json={"email": email, "password": "An0therPassword"}).status_code == 401


def test_a_password_reset_works_and_an_unknown_address_gets_the_same_answer(api, stack, login):
    email = f"reset-{uuid.uuid4().hex[:8]}@example.com"
    register_verified(api, stack, email, PASSWORD, "Rita Reset")
    known = api.post("/auth/password-reset", json={"email": email})
    unknown = api.post("/auth/password-reset", json={"email": f"nobody-{uuid.uuid4().hex[:8]}@example.com"})
    assert (known.status_code, known.json()) == (unknown.status_code, unknown.json())
    assert known.status_code == 202
    [mail] = outbox_mails(api, email, "Reset your coursepay password")
    token = link_token(mail)
    assert api.post("/auth/set-password", json={"token": token, "new_password": "Res3tPassword"}).status_code == 200
    assert api.post("/auth/login", json={"email": email, "password": PASSWORD}).status_code == 401
    assert "access_token" in login(email, "Res3tPassword")
    reused = api.post("/auth/set-password", json={"token": token, "new_password": "Res3tAgainPw"})
    assert (reused.status_code, reused.json()["error"]["code"]) == (400, "token_used")


def test_registration_needs_consent_and_verification_and_the_export_holds_the_data(api, stack, login):
    email = f"consent-{uuid.uuid4().hex[:8]}@example.com"
    body = {"email": email, "password": PASSWORD, "name": "Connie Sent"}
    refused = api.post("/auth/register", json=body)
    assert (refused.status_code, refused.json()["error"]["field"]) == (400, "accepted_terms_version")
    terms = api.get("/auth/terms").json()["version"]
    assert terms == stack.parameters["TermsVersion"]
    created = api.post("/auth/register", json={**body, "accepted_terms_version": terms})
    assert created.status_code == 201, created.text
    early = api.post("/auth/login", json={"email": email, "password": PASSWORD})
    assert (early.status_code, early.json()["error"]["code"]) == (403, "email_not_verified")
    [mail] = outbox_mails(api, email, "Confirm your e-mail address")
    assert api.post("/auth/verify-email", json={"token": link_token(mail)}).status_code == 200

    token = login(email, PASSWORD)["access_token"]
    export = api.get("/me/export", token=token)
    assert export.status_code == 200, export.text
    data = export.json()
    assert (data["profile"]["email"], data["profile"]["terms_version"]) == (email, terms)
    assert [(c["version"], c["channel"]) for c in data["consents"]] == [(terms, "registration")]
    assert {"enrollments", "payments", "subscriptions", "refund_requests"} <= set(data)


def test_deleting_the_account_removes_sign_in_and_personal_data_and_keeps_the_payment(api, stack, eventually,
                                                                                      login, aws):
    email = f"delete-{uuid.uuid4().hex[:8]}@example.com"
    session_id = buy(stack, api.session, email)
    [welcome] = eventually(lambda: outbox_mails(api, email, "Welcome to Data Professional"), timeout=30)
    assert api.post("/auth/set-password", json={"token": link_token(welcome), "new_password": PASSWORD}).ok
    token = login(email, PASSWORD)["access_token"]
    data = api.get("/me/export", token=token).json()
    assert [p["payment_id"] for p in data["payments"]] == [session_id]
    assert [(c["version"], c["channel"]) for c in data["consents"]] == [
        (stack.parameters["TermsVersion"], "signup_checkout")]
    user_id = data["user_id"]

    assert api.delete("/me", token=token).status_code == 204
    assert api.delete("/me", token=token).status_code == 204  # again: nothing more happens
    assert api.post("/auth/login", json={"email": email, "password": PASSWORD}).status_code == 401
    assert api.get("/me", token=token).status_code == 404
    assert email not in str(aws.table("AccountsTable").scan()["Items"])
    payment = aws.table("PaymentsTable").get_item(Key={"pk": f"PAYMENT#{session_id}", "sk": "PAYMENT"})["Item"]
    assert (payment["user_id"], payment["status"]) == (user_id, "succeeded")
    assert email not in str(aws.table("PaymentsTable").scan()["Items"])
    assert email not in str(aws.table("AuditTable").scan()["Items"])
