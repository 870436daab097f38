"""Track purchases end to end in-process: the payments function and the Stripe sandbox make the Stripe objects,
the sandbox's own events go through the fulfilment consumer, and the domain events it publishes (read from the
moto queues the bus feeds) through the provisioning and notifications consumers."""

from __future__ import annotations

import contextlib
import json
import uuid

import pytest
import stripe

from coursepay.tracks.events import TRACK_ENROLLED
from tests.support.accounts import TERMS, link_token
from tests.support.tracks import (
    call,
    complete_checkout,
    consume,
    drain,
    events_for,
    new_student,
    sent_emails,
    stripe_envelope,
)

pytest_plugins = ("tests.support.tracks_fixtures", "tests.support.tool_services")

URLS = {"success_url": "https://app.example.com/welcome", "cancel_url": "https://app.example.com/tracks"}
SIGNUP = {**URLS, "accepted_terms_version": TERMS}
PI_ROUTE = "/tracks/{trackId}/payment-intents"


@pytest.fixture
def world(payments, consumers, aws, lambda_context):
    aws.client("ses").verify_email_identity(EmailAddress="no-reply@example.com")
    return {"payments": payments, "fulfilment": consumers("fulfilment")}


def pay_by_intent(world, ctx, stripe_sdk, student, track="DP", card="pm_card_visa"):
    _, created = call(world["payments"], ctx, "POST", f"/tracks/{track}/payment-intents", route=PI_ROUTE, who=student)
    with contextlib.suppress(stripe.CardError):
        stripe_sdk.v1.payment_intents.confirm(created["payment_intent_id"], params={"payment_method": card})
    return created["payment_intent_id"]


def audit_actions(aws, entity):
    items = aws.table("AuditTable").query(KeyConditionExpression="pk = :p", ExpressionAttributeValues={":p": entity})
    return [item["action"] for item in items["Items"]]


def test_a_signed_in_purchase_enrolls_unlocks_project_one_provisions_and_welcomes(world, aws, lambda_context,
                                                                                   stripe_sdk, consumers,
                                                                                   tool_secrets):
    student = new_student(aws)
    pi = pay_by_intent(world, lambda_context, stripe_sdk, student)
    succeeded = events_for(stripe_sdk, pi, "payment_intent.succeeded")
    assert len(succeeded) == 1
    assert consume(world["fulfilment"], lambda_context, *succeeded) == {"batchItemFailures": []}
    assert consume(world["fulfilment"], lambda_context, *succeeded) == {"batchItemFailures": []}  # duplicate

    _, payment = call(world["payments"], lambda_context, "GET", f"/payments/{pi}", route="/payments/{paymentId}",
                      who=student)
    assert payment["status"] == "succeeded"
    enrollment = aws.table("EnrollmentsTable").get_item(Key={"pk": f"USER#{student.user_id}", "sk": "track#DP"})["Item"]
    assert (enrollment["status"], enrollment["source"]) == ("active", pi)
    assert enrollment["enrolled_at"]
    assert audit_actions(aws, f"enrollment#{student.user_id}#track#DP") == ["enrollment.created",
                                                                           "progress.first_project_unlocked"]
    assert audit_actions(aws, f"payment#{pi}") == ["payment.created", "payment.succeeded"]

    # the bus carried one track.enrollment.created to each consumer
    provisioning = drain(aws, "ProvisioningQueue")
    notifications = drain(aws, "NotificationsQueue")
    assert [r["body"].count(TRACK_ENROLLED) > 0 for r in provisioning] == [True]
    assert consumers("provisioning").lambda_handler({"Records": provisioning}, lambda_context) == {
        "batchItemFailures": []}
    assert consumers("notifications").lambda_handler({"Records": notifications}, lambda_context) == {
        "batchItemFailures": []}

    _, mine = call(world["payments"], lambda_context, "GET", "/me/tracks", who=student)
    [track] = mine["items"]
    assert (track["track_id"], track["status"], track["has_access"]) == ("DP", "active", True)
    first, second = track["projects"][0], track["projects"][1]
    assert first["state"] == "unlocked"
    assert {step["state"] for step in first["steps"]} == {"unlocked"}
    assert {step["state"] for step in second["steps"]} == {"locked"}
    assert track["tools"]["state"] == "provisioned"
    urls = {tool["tool_id"]: tool["url"] for tool in track["tools"]["tools"]}
    assert urls["superset"].startswith("https://superset.tools.coursepay.example/workspaces/dp-")
    assert student.user_id not in urls["superset"]
    assert {tool["tool_id"]: tool["state"] for tool in track["tools"]["tools"]} == {
        "postgres": "provisioned", "superset": "provisioned", "prefect": "provisioned", "jupyter": "provisioned",
        "discord": "provisioned"}
    assert urls["postgres"].startswith("postgresql://dp_")  # no password in the list: that is on the tools page
    assert "credentials" not in str(track["tools"])

    [mail] = [m for m in sent_emails() if m["to"] == [student.email] and m["subject"].startswith("Welcome to")]
    assert "Data Professional" in mail["subject"]
    assert "existing password" in mail["body"]
    assert "temporary password" not in mail["body"]


def test_a_declined_card_records_stripes_reason_and_a_late_failure_never_undoes_success(world, aws, lambda_context,
                                                                                        stripe_sdk):
    student = new_student(aws)
    pi = pay_by_intent(world, lambda_context, stripe_sdk, student, card="pm_card_chargeDeclinedInsufficientFunds")
    [failed] = events_for(stripe_sdk, pi, "payment_intent.payment_failed")
    consume(world["fulfilment"], lambda_context, failed)
    _, payment = call(world["payments"], lambda_context, "GET", f"/payments/{pi}", route="/payments/{paymentId}",
                      who=student)
    assert payment["status"] == "failed"
    assert payment["failure_reason"].startswith("insufficient_funds")
    assert aws.table("EnrollmentsTable").get_item(Key={"pk": f"USER#{student.user_id}", "sk": "track#DP"}).get(
        "Item") is None

    # the student retries: the same PaymentIntent is still payable, so the double-click guard returns it
    again = pay_by_intent(world, lambda_context, stripe_sdk, student)
    assert again == pi
    [succeeded] = events_for(stripe_sdk, pi, "payment_intent.succeeded")
    late_failure = failed.model_copy(update={"id": f"evt_late_{uuid.uuid4().hex[:8]}"})  # out of order, new id
    consume(world["fulfilment"], lambda_context, succeeded, late_failure)
    _, payment = call(world["payments"], lambda_context, "GET", f"/payments/{pi}", route="/payments/{paymentId}",
                      who=student)
    assert payment["status"] == "succeeded"
    assert payment["failure_reason"] is None
    # already enrolled: buying again is refused
    status, body = call(world["payments"], lambda_context, "POST", "/tracks/DP/payment-intents", route=PI_ROUTE,
                        who=student)
    assert (status, body["error"]["code"]) == (409, "conflict")


def test_payment_first_signup_creates_the_account_once_and_mails_a_single_use_set_password_link(
        world, aws, lambda_context, stripe_sdk, sandbox, consumers, load_function):
    email = f"new-{uuid.uuid4().hex[:8]}@example.com"
    status, refused = call(world["payments"], lambda_context, "POST", "/tracks/DP/signup-checkout",
                           route="/tracks/{trackId}/signup-checkout", body=URLS)
    assert (status, refused["error"]["field"]) == (400, "accepted_terms_version")
    _, session = call(world["payments"], lambda_context, "POST", "/tracks/DP/signup-checkout",
                      route="/tracks/{trackId}/signup-checkout", body=SIGNUP)
    assert stripe_sdk.v1.checkout.sessions.retrieve(session["session_id"]).metadata["terms_version"] == TERMS
    outcome = complete_checkout(sandbox.url, session["session_id"], email.upper(), "Nora New")
    assert outcome["outcome"] == "complete"
    pi = outcome["payment_intent"]
    completed = events_for(stripe_sdk, session["session_id"], "checkout.session.completed")
    intent_succeeded = events_for(stripe_sdk, pi, "payment_intent.succeeded")
    assert len(completed) == len(intent_succeeded) == 1
    # the PaymentIntent's event first (left to the session's), the session's twice, and once more under a new id
    replay = completed[0].model_copy(update={"id": f"evt_replay_{uuid.uuid4().hex[:8]}"})
    assert consume(world["fulfilment"], lambda_context, intent_succeeded[0], completed[0], completed[0], replay) == {
        "batchItemFailures": []}

    pool = aws.name("UserPool")
    users = aws.client("cognito-idp").list_users(UserPoolId=pool, Filter=f'email = "{email}"')["Users"]
    assert len(users) == 1
    assert users[0]["UserStatus"] == "FORCE_CHANGE_PASSWORD"  # no usable password: its temporary one is unknown
    groups = aws.client("cognito-idp").admin_list_groups_for_user(UserPoolId=pool, Username=email)["Groups"]
    assert [g["GroupName"] for g in groups] == ["students"]
    user_id = next(a["Value"] for a in users[0]["Attributes"] if a["Name"] == "sub")
    enrollment = aws.table("EnrollmentsTable").get_item(Key={"pk": f"USER#{user_id}", "sk": "track#DP"})["Item"]
    assert enrollment["source"] == session["session_id"]
    assert audit_actions(aws, f"enrollment#{user_id}#track#DP").count("enrollment.created") == 1
    payment = aws.table("PaymentsTable").get_item(Key={"pk": f"PAYMENT#{session['session_id']}", "sk": "PAYMENT"})
    assert (payment["Item"]["status"], payment["Item"]["user_id"]) == ("succeeded", user_id)
    assert payment["Item"]["stripe_payment_intent_id"] == pi
    # the consent given at checkout is stored with the account (once, however often the events came) and audited
    consents = aws.table("AccountsTable").query(
        KeyConditionExpression="pk = :pk AND begins_with(sk, :c)",
        ExpressionAttributeValues={":pk": f"USER#{user_id}", ":c": "CONSENT#"})["Items"]
    assert [(c["version"], c["channel"]) for c in consents] == [(TERMS, "signup_checkout")]
    assert audit_actions(aws, f"user#{user_id}").count("account.consent_recorded") == 1

    verify = "/checkout/sessions/{sessionId}/verify"
    status, body = call(world["payments"], lambda_context, "GET", f"/checkout/sessions/{session['session_id']}/verify",
                        route=verify)
    assert (status, body["status"], body["email"]) == (200, "ready", email)
    assert not {"access_token", "id_token", "refresh_token", "password"} & set(body)

    notifications = drain(aws, "NotificationsQueue")
    # once each: the enrollment (the welcome e-mail) and the billing core's payment.succeeded (the receipt)
    assert sorted(json.loads(record["body"])["detail-type"] for record in notifications) == [
        "payment.succeeded", "track.enrollment.created"]
    consumers("notifications").lambda_handler({"Records": notifications}, lambda_context)
    mails = [m for m in sent_emails() if m["to"] == [email]]
    welcome, receipt = sorted(m["subject"] for m in mails)
    assert welcome == "Welcome to Data Professional"
    assert receipt.startswith("Your receipt for Data Professional")
    [mail] = [m for m in mails if m["subject"].startswith("Welcome to")]
    assert "password:" not in mail["body"].lower()
    assert "expires after 72 hours" in mail["body"]
    token = link_token(mail)
    assert f"https://app.example.com/set-password?token={token}" in mail["html"]
    # the token is nowhere but in the e-mail: not on the bus, and only its hash in a table
    assert all(token not in record["body"] for record in notifications)
    for table in ("PaymentsTable", "AccountsTable", "EnrollmentsTable", "AuditTable", "IdempotencyTable"):
        assert token not in str(aws.table(table).scan()["Items"])

    # the same e-mail buys a second track before setting a password: same account, and no second link
    _, second = call(world["payments"], lambda_context, "POST", "/tracks/FSD/signup-checkout",
                     route="/tracks/{trackId}/signup-checkout", body=SIGNUP)
    complete_checkout(sandbox.url, second["session_id"], email, "Nora New")
    consume(world["fulfilment"], lambda_context, *events_for(stripe_sdk, second["session_id"],
                                                             "checkout.session.completed"))
    assert len(aws.client("cognito-idp").list_users(UserPoolId=pool, Filter=f'email = "{email}"')["Users"]) == 1
    assert aws.table("EnrollmentsTable").get_item(Key={"pk": f"USER#{user_id}", "sk": "track#FSD"})["Item"][
        "status"] == "active"
    consumers("notifications").lambda_handler({"Records": drain(aws, "NotificationsQueue")}, lambda_context)
    [fsd_welcome] = [m for m in sent_emails()
                     if m["to"] == [email] and m["subject"] == "Welcome to Full-Stack Developer"]
    assert "?token=" not in fsd_welcome["body"]
    assert "link in your first welcome e-mail" in fsd_welcome["body"]

    # the link sets the password once; the buyer then signs in
    accounts = load_function("AccountsFunction", "accounts")
    set_password = {"token": token, "new_password": "Ch0senPassword"}
    assert call(accounts, lambda_context, "POST", "/auth/set-password", body=set_password)[0] == 200
    status, again = call(accounts, lambda_context, "POST", "/auth/set-password", body=set_password)
    assert (status, again["error"]["code"]) == (400, "token_used")
    status, tokens = call(accounts, lambda_context, "POST", "/auth/login",
                          body={"email": email, "password": "Ch0senPassword"})
    assert status == 200
    assert tokens["access_token"]


def test_an_unpaid_or_expired_session_creates_nothing(world, aws, lambda_context, stripe_sdk):
    _, session = call(world["payments"], lambda_context, "POST", "/tracks/FSD/signup-checkout",
                      route="/tracks/{trackId}/signup-checkout", body=SIGNUP)
    stripe_sdk.v1.checkout.sessions.expire(session["session_id"])
    consume(world["fulfilment"], lambda_context, *events_for(stripe_sdk, session["session_id"],
                                                             "checkout.session.expired"))
    status, body = call(world["payments"], lambda_context, "GET", f"/checkout/sessions/{session['session_id']}/verify",
                        route="/checkout/sessions/{sessionId}/verify")
    assert (status, body["error"]["code"]) == (404, "checkout_expired")
    payment = aws.table("PaymentsTable").get_item(Key={"pk": f"PAYMENT#{session['session_id']}", "sk": "PAYMENT"})
    assert payment["Item"]["status"] == "canceled"
    assert aws.client("cognito-idp").list_users(UserPoolId=aws.name("UserPool"))["Users"] == []


def test_an_event_for_an_unknown_payment_is_rebuilt_from_its_metadata(world, aws, lambda_context, stripe_sdk):
    """The API stored nothing (it crashed after Stripe answered): the PaymentIntent's metadata is enough."""
    student = new_student(aws)
    intent = stripe_sdk.v1.payment_intents.create(params={
        "amount": 49900, "currency": "usd", "payment_method": "pm_card_visa", "confirm": True,
        "metadata": {"kind": "track", "track_id": "DP", "user_id": student.user_id, "channel": "payment_intent"}})
    consume(world["fulfilment"], lambda_context, *events_for(stripe_sdk, intent.id, "payment_intent.succeeded"))
    payment = aws.table("PaymentsTable").get_item(Key={"pk": f"PAYMENT#{intent.id}", "sk": "PAYMENT"})["Item"]
    assert (payment["status"], payment["user_id"], payment["amount"]) == ("succeeded", student.user_id, 49900)
    assert stripe_envelope  # (helper exported for other modules)
