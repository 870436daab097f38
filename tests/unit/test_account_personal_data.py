"""A user's personal data in-process (moto): the export, and the deletion that removes sign-in and personal data
and keeps the payment records under the pseudonymous user id only."""

from __future__ import annotations

import pytest

from coursepay.billing.enrollments import Enrollment, EnrollmentsRepository
from coursepay.billing.payments import Payment, PaymentsRepository
from coursepay.refunds.repository import RefundRequest, RefundRequestsRepository
from coursepay.subscriptions.models import Subscription
from coursepay.subscriptions.repository import SubscriptionsRepository
from tests.support.accounts import TERMS, link_token, mails_to
from tests.support.api_events import body_of, claims_for, http_event

PASSWORD = "Str0ngPassword"
EMAIL = "ada@example.com"


pytest_plugins = ("tests.support.accounts_fixtures",)


def call(module, ctx, method, path, body=None, claims=None):
    response = module.lambda_handler(http_event(method, path, body=body, claims=claims), ctx)
    return response["statusCode"], body_of(response) if response.get("body") else None


@pytest.fixture
def student(accounts, lambda_context, aws):
    status, profile = call(accounts, lambda_context, "POST", "/auth/register",
                           {"email": EMAIL, "password": PASSWORD, "name": "Ada Lovelace",
                            "accepted_terms_version": TERMS})
    assert status == 201
    [mail] = mails_to(EMAIL, "Confirm your e-mail address")
    assert call(accounts, lambda_context, "POST", "/auth/verify-email", {"token": link_token(mail)})[0] == 200
    user_id = profile["user_id"]
    payments_table = aws.name("PaymentsTable")
    PaymentsRepository(payments_table).create(Payment(
        payment_id="pi_export_1", user_id=user_id, kind="track", item_id="DP", item_name="Data Professional track",
        amount=49900, currency="usd", status="succeeded", stripe_customer_id="cus_export"))
    EnrollmentsRepository(aws.name("EnrollmentsTable")).save(
        Enrollment(user_id=user_id, kind="track", item_id="DP", source="pi_export_1"))
    RefundRequestsRepository(payments_table).create(RefundRequest(
        request_id="rr_export_1", payment_id="pi_export_1", user_id=user_id, reason="changed my mind",
        amount_paid=49900, currency="usd", refundable_at_request=49900))
    return {"user_id": user_id, "claims": claims_for(user_id, "students", email=EMAIL)}


def test_the_export_holds_profile_consents_enrollments_payments_and_refund_requests(accounts, lambda_context,
                                                                                    student, aws):
    status, export = call(accounts, lambda_context, "GET", "/me/export", claims=student["claims"])
    assert status == 200
    assert (export["user_id"], export["profile"]["email"], export["profile"]["name"]) == (
        student["user_id"], EMAIL, "Ada Lovelace")
    assert [(c["version"], c["channel"]) for c in export["consents"]] == [(TERMS, "registration")]
    assert [(e["item_id"], e["status"]) for e in export["enrollments"]] == [("DP", "active")]
    assert [(p["payment_id"], p["amount"]) for p in export["payments"]] == [("pi_export_1", 49900)]
    assert [r["request_id"] for r in export["refund_requests"]] == ["rr_export_1"]
    assert export["subscriptions"] == []
    # someone else's token exports someone else's (here: nothing), never this user's
    assert call(accounts, lambda_context, "GET", "/me/export", claims=claims_for("someone-else", "students"))[0] == 404
    assert call(accounts, lambda_context, "GET", "/me/export")[0] == 401


def test_deletion_removes_sign_in_and_personal_data_and_keeps_pseudonymous_payments(accounts, lambda_context,
                                                                                     student, aws):
    user_id = student["user_id"]
    assert call(accounts, lambda_context, "DELETE", "/me")[0] == 401
    assert call(accounts, lambda_context, "DELETE", "/me", claims=student["claims"])[0] == 204

    pool = aws.name("UserPool")
    assert aws.client("cognito-idp").list_users(UserPoolId=pool)["Users"] == []
    assert call(accounts, lambda_context, "POST", "/auth/login", {"email": EMAIL, "password": PASSWORD})[0] == 401
    profile = aws.table("AccountsTable").get_item(Key={"pk": f"USER#{user_id}", "sk": "PROFILE"})["Item"]
    assert set(profile) == {"pk", "sk", "user_id", "deleted_at", "created_at"}
    assert EMAIL not in str(aws.table("AccountsTable").scan()["Items"])
    assert "Ada" not in str(aws.table("AccountsTable").scan()["Items"])
    # the payment stays (7 years), naming the user id only
    payment = aws.table("PaymentsTable").get_item(Key={"pk": "PAYMENT#pi_export_1", "sk": "PAYMENT"})["Item"]
    assert (payment["user_id"], payment["status"]) == (user_id, "succeeded")
    assert EMAIL not in str(aws.table("PaymentsTable").scan()["Items"])
    assert EMAIL not in str(aws.table("AuditTable").scan()["Items"])

    # again (the access token outlives the account): nothing more happens, one audit entry
    assert call(accounts, lambda_context, "DELETE", "/me", claims=student["claims"])[0] == 204
    audit = aws.table("AuditTable").query(KeyConditionExpression="pk = :pk",
                                          ExpressionAttributeValues={":pk": f"user#{user_id}"})["Items"]
    assert [entry["action"] for entry in audit].count("account.deleted") == 1
    assert call(accounts, lambda_context, "GET", "/me", claims=student["claims"])[0] == 404
    assert call(accounts, lambda_context, "GET", "/me/export", claims=student["claims"])[0] == 404
    # a reset for the deleted address answers as for any unknown one
    assert call(accounts, lambda_context, "POST", "/auth/password-reset", {"email": EMAIL})[0] == 202


def test_deletion_waits_for_live_subscriptions_to_be_canceled(accounts, lambda_context, student, aws):
    SubscriptionsRepository(aws.name("PaymentsTable")).save(Subscription(
        subscription_id="sub_live", user_id=student["user_id"], course_id="crs_1", status="active"))
    status, body = call(accounts, lambda_context, "DELETE", "/me", claims=student["claims"])
    assert (status, body["error"]["code"]) == (409, "subscriptions_active")
    assert len(aws.client("cognito-idp").list_users(UserPoolId=aws.name("UserPool"))["Users"]) == 1
