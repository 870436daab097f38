"""Refund requests: student asks, admin approves (partial/full) or denies; Stripe refunds once; charge.refunded
updates the payment and, on a full refund, withdraws the enrollment."""

from __future__ import annotations

import pytest

from tests.support.tracks import call, consume, drain, events_for, new_student, sent_emails

pytest_plugins = ("tests.support.tracks_fixtures",)

PI_ROUTE = "/tracks/{trackId}/payment-intents"
REQUEST_ROUTE = "/payments/{paymentId}/refund-requests"
APPROVE_ROUTE = "/admin/refund-requests/{requestId}/approve"
DENY_ROUTE = "/admin/refund-requests/{requestId}/deny"


@pytest.fixture
def paid(payments, consumers, aws, lambda_context, stripe_sdk):
    """A student who paid for DP (PaymentIntent, succeeded, enrolled) and an admin."""
    aws.client("ses").verify_email_identity(EmailAddress="no-reply@example.com")
    fulfilment = consumers("fulfilment")
    student = new_student(aws)
    _, created = call(payments, lambda_context, "POST", "/tracks/DP/payment-intents", route=PI_ROUTE, who=student)
    pi = created["payment_intent_id"]
    stripe_sdk.v1.payment_intents.confirm(pi, params={"payment_method": "pm_card_visa"})
    consume(fulfilment, lambda_context, *events_for(stripe_sdk, pi, "payment_intent.succeeded"))
    drain(aws, "NotificationsQueue")
    return {"student": student, "admin": new_student(aws, "Ada", "admins"), "pi": pi, "fulfilment": fulfilment}


def refunded_events(stripe_sdk, pi, seen):
    fresh = [e for e in events_for(stripe_sdk, pi, "charge.refunded") if e.id not in seen]
    seen.update(e.id for e in fresh)
    return fresh


def test_refund_request_approval_partial_then_full_withdraws_the_enrollment(payments, paid, aws, lambda_context,
                                                                            stripe_sdk, consumers):
    student, admin, pi = paid["student"], paid["admin"], paid["pi"]
    status, request = call(payments, lambda_context, "POST", f"/payments/{pi}/refund-requests", route=REQUEST_ROUTE,
                           who=student, body={"reason": "I cannot attend after all"})
    assert (status, request["status"], request["refundable_at_request"]) == (201, "pending", 49900)
    status, body = call(payments, lambda_context, "POST", f"/payments/{pi}/refund-requests", route=REQUEST_ROUTE,
                        who=student, body={"reason": "again"})
    assert status == 409  # one open request per payment

    # students cannot see the queue or decide; admins see it
    assert call(payments, lambda_context, "GET", "/admin/refund-requests", who=student)[0] == 403
    status, queue = call(payments, lambda_context, "GET", "/admin/refund-requests", who=admin,
                         query={"status": "pending"})
    assert [r["request_id"] for r in queue["items"]] == [request["request_id"]]
    rid = request["request_id"]
    assert call(payments, lambda_context, "POST", f"/admin/refund-requests/{rid}/approve", route=APPROVE_ROUTE,
                who=student, body={})[0] == 403

    # more than was paid: refused, nothing changes
    status, body = call(payments, lambda_context, "POST", f"/admin/refund-requests/{rid}/approve",
                        route=APPROVE_ROUTE, who=admin, body={"amount": 50000})
    assert (status, body["error"]["field"]) == (400, "amount")

    status, approved = call(payments, lambda_context, "POST", f"/admin/refund-requests/{rid}/approve",
                            route=APPROVE_ROUTE, who=admin, body={"amount": 10000})
    assert (status, approved["status"], approved["approved_amount"]) == (200, "approved", 10000)
    assert approved["stripe_refund_id"].startswith("re_")
    # approving twice is impossible
    status, body = call(payments, lambda_context, "POST", f"/admin/refund-requests/{rid}/approve",
                        route=APPROVE_ROUTE, who=admin, body={"amount": 10000})
    assert status == 409
    refunds = stripe_sdk.v1.refunds.list(params={"payment_intent": pi}).data
    assert [r.amount for r in refunds] == [10000]

    seen: set[str] = set()
    partial = refunded_events(stripe_sdk, pi, seen)
    consume(paid["fulfilment"], lambda_context, *partial, *partial)
    _, payment = call(payments, lambda_context, "GET", f"/payments/{pi}", route="/payments/{paymentId}", who=student)
    assert (payment["status"], payment["refunded_amount"]) == ("partially_refunded", 10000)
    assert payment["refunded_at"]
    _, mine = call(payments, lambda_context, "GET", "/me/tracks", who=student)
    assert mine["items"][0]["status"] == "active"  # a partial refund keeps the enrollment

    # the rest: a second request, approved without an amount (= everything not yet refunded)
    _, second = call(payments, lambda_context, "POST", f"/payments/{pi}/refund-requests", route=REQUEST_ROUTE,
                     who=student, body={"reason": "please refund the rest"})
    assert second["refundable_at_request"] == 39900
    _, approved = call(payments, lambda_context, "POST", f"/admin/refund-requests/{second['request_id']}/approve",
                       route=APPROVE_ROUTE, who=admin, body={})
    assert approved["approved_amount"] == 39900
    consume(paid["fulfilment"], lambda_context, *refunded_events(stripe_sdk, pi, seen))
    _, payment = call(payments, lambda_context, "GET", f"/payments/{pi}", route="/payments/{paymentId}", who=student)
    assert (payment["status"], payment["refunded_amount"]) == ("refunded", 49900)
    _, mine = call(payments, lambda_context, "GET", "/me/tracks", who=student)
    assert (mine["items"][0]["status"], mine["items"][0]["has_access"]) == ("withdrawn", False)
    # a late, older charge.refunded changes nothing
    consume(paid["fulfilment"], lambda_context, partial[0].model_copy(update={"id": "evt_late_partial"}))
    _, payment = call(payments, lambda_context, "GET", f"/payments/{pi}", route="/payments/{paymentId}", who=student)
    assert (payment["status"], payment["refunded_amount"]) == ("refunded", 49900)

    # nothing left to refund
    status, _ = call(payments, lambda_context, "POST", f"/payments/{pi}/refund-requests", route=REQUEST_ROUTE,
                     who=student, body={"reason": "more"})
    assert status == 409
    entries = aws.table("AuditTable").query(KeyConditionExpression="pk = :p",
                                            ExpressionAttributeValues={":p": f"enrollment#{student.user_id}#track#DP"})
    assert "enrollment.withdrawn.refunded" in [e["action"] for e in entries["Items"]]

    # withdrawal reaches provisioning (tools revoked) and notifications (e-mail)
    consumers("provisioning").lambda_handler({"Records": drain(aws, "ProvisioningQueue")}, lambda_context)
    consumers("notifications").lambda_handler({"Records": drain(aws, "NotificationsQueue")}, lambda_context)
    _, mine = call(payments, lambda_context, "GET", "/me/tracks", who=student)
    assert mine["items"][0]["tools"]["state"] == "revoked"
    assert any("has ended" in m["subject"] for m in sent_emails() if m["to"] == [student.email])


def test_a_refund_made_in_the_stripe_dashboard_also_withdraws(payments, paid, lambda_context, stripe_sdk):
    pi = paid["pi"]
    stripe_sdk.v1.refunds.create(params={"payment_intent": pi})  # no request: someone used the dashboard
    consume(paid["fulfilment"], lambda_context, *events_for(stripe_sdk, pi, "charge.refunded"))
    _, mine = call(payments, lambda_context, "GET", "/me/tracks", who=paid["student"])
    assert mine["items"][0]["status"] == "withdrawn"


def test_deny_and_other_peoples_payments(payments, paid, aws, lambda_context):
    student, admin, pi = paid["student"], paid["admin"], paid["pi"]
    intruder = new_student(aws, "Eve")
    status, body = call(payments, lambda_context, "GET", f"/payments/{pi}", route="/payments/{paymentId}",
                        who=intruder)
    assert (status, body["error"]["code"]) == (404, "not_found")
    assert call(payments, lambda_context, "GET", f"/payments/{pi}", route="/payments/{paymentId}", who=admin)[0] == 200
    status, _ = call(payments, lambda_context, "POST", f"/payments/{pi}/refund-requests", route=REQUEST_ROUTE,
                     who=intruder, body={"reason": "give me the money"})
    assert status == 404
    _, listed = call(payments, lambda_context, "GET", "/payments", who=intruder)
    assert listed == {"items": [], "next_cursor": None}
    _, listed = call(payments, lambda_context, "GET", "/payments", who=student)
    assert [p["payment_id"] for p in listed["items"]] == [pi]

    status, body = call(payments, lambda_context, "POST", f"/payments/{pi}/refund-requests", route=REQUEST_ROUTE,
                        who=student, body={"reason": ""})
    assert (status, body["error"]["field"]) == (400, "reason")
    _, request = call(payments, lambda_context, "POST", f"/payments/{pi}/refund-requests", route=REQUEST_ROUTE,
                      who=student, body={"reason": "changed my mind"})
    status, denied = call(payments, lambda_context, "POST", f"/admin/refund-requests/{request['request_id']}/deny",
                          route=DENY_ROUTE, who=admin, body={"reason": "past the refund window"})
    assert (status, denied["status"], denied["decision_reason"]) == (200, "denied", "past the refund window")
    status, _ = call(payments, lambda_context, "POST", f"/admin/refund-requests/{request['request_id']}/approve",
                     route=APPROVE_ROUTE, who=admin, body={})
    assert status == 409
    _, mine = call(payments, lambda_context, "GET", "/me/refund-requests", who=student)
    assert [r["status"] for r in mine["items"]] == ["denied"]
    # a denied request does not block a new one
    status, _ = call(payments, lambda_context, "POST", f"/payments/{pi}/refund-requests", route=REQUEST_ROUTE,
                     who=student, body={"reason": "please reconsider"})
    assert status == 201
