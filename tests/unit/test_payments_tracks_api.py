"""Payments function: the track catalogue and buying a track (PaymentIntent, Checkout, payment-first sign-up),
against moto in-process and the Stripe sandbox in-process."""

from __future__ import annotations

import pytest

from tests.support.accounts import TERMS
from tests.support.tracks import call, new_student

pytest_plugins = ("tests.support.tracks_fixtures",)  # fixtures: payments, stripe_sdk, sandbox

ORIGIN = "https://app.example.com"
URLS = {"success_url": f"{ORIGIN}/paid", "cancel_url": f"{ORIGIN}/tracks"}
SIGNUP = {**URLS, "accepted_terms_version": TERMS}


def test_the_catalogue_is_public_and_comes_from_the_data_file(payments, lambda_context):
    status, body = call(payments, lambda_context, "GET", "/tracks")
    assert status == 200
    tracks = {t["track_id"]: t for t in body["items"]}
    assert list(tracks) == ["DP", "FSD"]
    assert (tracks["DP"]["price"], tracks["DP"]["currency"]) == (49900, "usd")
    assert (tracks["FSD"]["price"], tracks["FSD"]["currency"]) == (59900, "usd")
    assert {"superset", "jupyter", "prefect"} <= {tool["tool_id"] for tool in tracks["DP"]["tools"]}
    assert "url_template" not in tracks["DP"]["tools"][0]
    assert tracks["DP"]["projects"][0]["steps"]

    status, body = call(payments, lambda_context, "GET", "/tracks/FSD", route="/tracks/{trackId}")
    assert (status, body["name"]) == (200, "Full-Stack Developer")
    status, body = call(payments, lambda_context, "GET", "/tracks/NOPE", route="/tracks/{trackId}")
    assert (status, body["error"]["field"]) == (404, "trackId")


def test_a_payment_intent_charges_the_catalogue_price_and_a_double_click_gets_the_same_one(
        payments, lambda_context, aws, stripe_sdk):
    student = new_student(aws)
    route = "/tracks/{trackId}/payment-intents"
    status, first = call(payments, lambda_context, "POST", "/tracks/DP/payment-intents", route=route, who=student)
    assert status == 201, first
    assert first["amount"] == 49900
    assert first["currency"] == "usd"
    assert first["publishable_key"] == "pk_test_unit"
    assert first["client_secret"].startswith(first["payment_intent_id"])

    _, again = call(payments, lambda_context, "POST", "/tracks/DP/payment-intents", route=route, who=student)
    assert again["payment_intent_id"] == first["payment_intent_id"]

    intent = stripe_sdk.v1.payment_intents.retrieve(first["payment_intent_id"])
    assert intent.amount == 49900  # what Stripe will charge is the catalogue price
    assert intent.metadata["kind"] == "track"
    assert intent.metadata["track_id"] == "DP"
    assert intent.metadata["user_id"] == student.user_id

    # one Stripe Customer for the student, reused by the next purchase
    customer = aws.table("AccountsTable").get_item(Key={"pk": f"USER#{student.user_id}", "sk": "STRIPE_CUSTOMER"})
    assert intent.customer == customer["Item"]["customer_id"]
    _, fsd = call(payments, lambda_context, "POST", "/tracks/FSD/payment-intents", route=route, who=student)
    assert stripe_sdk.v1.payment_intents.retrieve(fsd["payment_intent_id"]).customer == intent.customer
    assert fsd["amount"] == 59900

    status, payment = call(payments, lambda_context, "GET", f"/payments/{first['payment_intent_id']}",
                           route="/payments/{paymentId}", who=student)
    assert (status, payment["status"], payment["amount"], payment["item_id"]) == (200, "pending", 49900, "DP")
    entries = aws.table("AuditTable").query(KeyConditionExpression="pk = :p",
                                            ExpressionAttributeValues={":p": f"payment#{first['payment_intent_id']}"})
    assert [e["action"] for e in entries["Items"]] == ["payment.created"]


@pytest.mark.parametrize("body", [{"amount": 100}, {"currency": "eur"}, {"amount": 49900, "track": "DP"}])
def test_a_client_sent_amount_is_refused_and_nothing_is_created(payments, lambda_context, aws, body):
    student = new_student(aws)
    status, error = call(payments, lambda_context, "POST", "/tracks/DP/payment-intents",
                         route="/tracks/{trackId}/payment-intents", who=student, body=body)
    assert status == 400
    assert error["error"]["field"] == next(iter(body))
    assert aws.table("PaymentsTable").scan()["Items"] == []


def test_buying_needs_a_signed_in_student_and_a_known_track(payments, lambda_context, aws):
    route = "/tracks/{trackId}/payment-intents"
    assert call(payments, lambda_context, "POST", "/tracks/DP/payment-intents", route=route)[0] == 401
    teacher = new_student(aws, "Tess", "teachers")
    assert call(payments, lambda_context, "POST", "/tracks/DP/payment-intents", route=route, who=teacher)[0] == 403
    student = new_student(aws)
    status, body = call(payments, lambda_context, "POST", "/tracks/XX/payment-intents", route=route, who=student)
    assert (status, body["error"]["field"]) == (404, "trackId")


def test_checkout_checks_redirect_origins_and_reuses_an_open_session(payments, lambda_context, aws, stripe_sdk):
    student = new_student(aws)
    route = "/tracks/{trackId}/checkout"
    status, body = call(payments, lambda_context, "POST", "/tracks/FSD/checkout", route=route, who=student,
                        body={**URLS, "success_url": "https://evil.example.net/paid"})
    assert (status, body["error"]["field"]) == (400, "success_url")
    status, body = call(payments, lambda_context, "POST", "/tracks/FSD/checkout", route=route, who=student,
                        body={**URLS, "cancel_url": "javascript:alert(1)"})
    assert (status, body["error"]["field"]) == (400, "cancel_url")

    status, first = call(payments, lambda_context, "POST", "/tracks/FSD/checkout", route=route, who=student, body=URLS)
    assert status == 201, first
    _, again = call(payments, lambda_context, "POST", "/tracks/FSD/checkout", route=route, who=student, body=URLS)
    assert again["session_id"] == first["session_id"]
    session = stripe_sdk.v1.checkout.sessions.retrieve(first["session_id"])
    assert session.amount_total == 59900
    assert session.metadata["kind"] == "track"
    assert session.metadata["channel"] == "checkout"
    assert session.success_url == f"{ORIGIN}/paid?session_id={{CHECKOUT_SESSION_ID}}"


def test_signup_checkout_is_anonymous_and_the_success_page_waits_for_the_account(payments, lambda_context, aws,
                                                                                  stripe_sdk):
    route = "/tracks/{trackId}/signup-checkout"
    headers = {"Idempotency-Key": "click-1234567890", "x-correlation-id": "signup-trace-0001"}
    for without_consent in (URLS, {**URLS, "accepted_terms_version": "2019-01"}):
        status, refused = call(payments, lambda_context, "POST", "/tracks/DP/signup-checkout", route=route,
                               body=without_consent, headers=headers)
        assert (status, refused["error"]["field"]) == (400, "accepted_terms_version")
    status, first = call(payments, lambda_context, "POST", "/tracks/DP/signup-checkout", route=route, body=SIGNUP,
                         headers=headers)
    assert status == 201, first
    _, again = call(payments, lambda_context, "POST", "/tracks/DP/signup-checkout", route=route, body=SIGNUP,
                    headers=headers)
    assert again["session_id"] == first["session_id"]
    session = stripe_sdk.v1.checkout.sessions.retrieve(first["session_id"])
    assert session.customer_creation == "always"
    assert session.customer is None
    metadata = session.metadata.to_dict()
    # the purchase's own id (coursepay.correlation.of_purchase_attempt), not the request's
    assert metadata.pop("correlation_id").startswith("pur-")
    assert metadata == {"kind": "track", "track_id": "DP", "channel": "signup", "pricing": "one_time",
                        "terms_version": TERMS}

    verify = "/checkout/sessions/{sessionId}/verify"
    status, body = call(payments, lambda_context, "GET", f"/checkout/sessions/{first['session_id']}/verify",
                        route=verify)
    assert (status, body["status"]) == (202, "processing")
    assert "access_token" not in body
    assert "email" not in {k for k, v in body.items() if v}
    status, body = call(payments, lambda_context, "GET", "/checkout/sessions/cs_test_unknown/verify", route=verify)
    assert status == 404


def test_a_signup_whose_webhook_was_lost_is_recovered_from_stripe_by_the_verify_route(
        payments, lambda_context, aws, sandbox, stripe_event_stream):
    import json
    import urllib.request

    status, checkout = call(payments, lambda_context, "POST", "/tracks/DP/signup-checkout",
                            route="/tracks/{trackId}/signup-checkout", body=SIGNUP,
                            headers={"Idempotency-Key": "lost-webhook-1234"})
    assert status == 201, checkout
    session_id = checkout["session_id"]
    request = urllib.request.Request(
        f"{sandbox.url}/_sandbox/checkout/sessions/{session_id}/complete", method="POST",
        data=json.dumps({"email": "lost@example.com", "name": "Lost", "card_number": "4242424242424242",
                         "exp": "12/40", "cvc": "123"}).encode(), headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as response:
        assert json.loads(response.read())["outcome"] == "complete"
    # no webhook endpoint is registered: the completion exists only at Stripe
    events = aws.table("StripeEventsTable")
    verify = "/checkout/sessions/{sessionId}/verify"
    assert call(payments, lambda_context, "GET", f"/checkout/sessions/{session_id}/verify", route=verify)[0] == 202
    assert events.scan()["Items"] == []  # a fresh sign-up does not ask Stripe yet

    signups = aws.table("PaymentsTable")
    signups.update_item(Key={"pk": f"SIGNUP#{session_id}", "sk": "SIGNUP"},
                        UpdateExpression="SET created_at = :old",
                        ExpressionAttributeValues={":old": "2026-01-01T00:00Z"})
    status, body = call(payments, lambda_context, "GET", f"/checkout/sessions/{session_id}/verify", route=verify)
    assert (status, body["status"]) == (202, "processing")  # the consumers fulfil it from the bus
    stripe_event_stream.publish()  # the table's stream puts the recovered events on the bus
    stored = [item for item in events.scan()["Items"] if item["pk"].startswith("evt_")]
    completed = [item for item in stored if item["type"] == "checkout.session.completed"]
    assert [item["status"] for item in completed] == ["PUBLISHED"]
    assert json.loads(completed[0]["payload"])["data"]["object"]["id"] == session_id
    # polling again right away does not ask Stripe again (one check per interval, a conditional write)
    before = signups.get_item(Key={"pk": f"SIGNUP#{session_id}", "sk": "SIGNUP"})["Item"]["recovery_checked_at"]
    call(payments, lambda_context, "GET", f"/checkout/sessions/{session_id}/verify", route=verify)
    after = signups.get_item(Key={"pk": f"SIGNUP#{session_id}", "sk": "SIGNUP"})["Item"]["recovery_checked_at"]
    assert after == before
