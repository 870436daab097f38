"""The course marketplace end to end through the local stack: API Gateway + Cognito JWT, the courses and checkout
functions, the Stripe sandbox (hosted checkout page in a real browser), webhook -> bus -> SQS -> fulfilment."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable
from typing import Any

import pytest
import requests

from local.stack.seed import DEMO_PASSWORD
from tests.support.accounts import register_verified
from tests.support.billing_stack import course_access as access
from tests.support.billing_stack import pay as pay_by_api

TEACHER = "teacher@coursepay.local"
ADMIN = "admin@coursepay.local"
DAY = 24 * 3600
COURSE = {"title": "Integration: Python for kids", "description": "Loops and turtles", "outline": ["Loops"],
          "monthly_price": 1500, "one_time_price": 9900, "currency": "usd"}


# ------------------------------------------------------------------------------------------------ helpers
@pytest.fixture(scope="module")
def tokens(api: Any, stack: Any, login: Callable[..., dict[str, Any]]) -> Callable[[str], str]:
    """``tokens(role)``: an access token of a fresh user of that role ("student", "teacher"), or of a seeded one."""
    admin = login(ADMIN)["access_token"]

    def new_user(role: str) -> str:
        email = f"{role}-{uuid.uuid4().hex[:8]}@example.com"
        created = register_verified(api, stack, email, DEMO_PASSWORD, role)
        if role == "teacher":
            promoted = api.post(f"/admin/users/{created['user_id']}/groups", token=admin,
                                json={"group": "teachers"})
            assert promoted.status_code == 200, promoted.text
        return str(login(email)["access_token"])

    return new_user


@pytest.fixture(scope="module")
def teacher(login: Callable[..., dict[str, Any]]) -> str:
    return str(login(TEACHER)["access_token"])


def create_course(api: Any, token: str, **overrides: Any) -> dict[str, Any]:
    response = api.post("/courses", token=token, json={**COURSE, **overrides},
                        headers={"Idempotency-Key": uuid.uuid4().hex})
    assert response.status_code == 201, response.text
    return dict(response.json())


def origin(stack: Any) -> str:
    return str(stack.api_url).rstrip("/")


def checkout(api: Any, stack: Any, token: str, course_id: str, pricing: str, **overrides: Any) -> requests.Response:
    body = {"pricing": pricing, "success_url": f"{origin(stack)}/done?session_id={{CHECKOUT_SESSION_ID}}",
            "cancel_url": f"{origin(stack)}/cancelled", **overrides}
    return api.post(f"/courses/{course_id}/checkout", token=token, json=body)


def subscriptions(api: Any, token: str) -> list[dict[str, Any]]:
    response = api.get("/subscriptions", token=token)
    assert response.status_code == 200, response.text
    return list(response.json()["items"])


def flush(stack: Any) -> None:
    requests.post(f"{stack.stripe_url}/_sandbox/webhooks/flush", json={"timeout": 10}, timeout=15)


def records_of(aws: Any, user_id: str) -> dict[str, Any]:
    """What the tables say about one user's purchases (what a support person would look at)."""
    payments = aws.table("PaymentsTable").query(
        IndexName="gsi1", KeyConditionExpression="gsi1pk = :u", ExpressionAttributeValues={":u": f"USER#{user_id}"})
    enrollments = aws.table("EnrollmentsTable").query(
        KeyConditionExpression="pk = :u", ExpressionAttributeValues={":u": f"USER#{user_id}"})
    audit = aws.table("AuditTable").scan()["Items"]
    mine = [entry for entry in audit if user_id in json.dumps(entry, default=str)]
    return {"payments": sorted(payments["Items"], key=lambda i: i["pk"]),
            "enrollments": enrollments["Items"], "audit": sorted(mine, key=lambda i: (i["pk"], i["sk"]))}


def user_id_of(api: Any, token: str) -> str:
    return str(api.get("/me", token=token).json()["user_id"])


def quiet(aws: Any, timeout: float = 20) -> None:
    """Wait until the fulfilment queue has nothing visible or in flight."""
    sqs = aws.client("sqs")
    url = sqs.get_queue_url(QueueName=aws.name("FulfilmentQueue").rsplit("/", 1)[-1])["QueueUrl"] \
        if not aws.name("FulfilmentQueue").startswith("http") else aws.name("FulfilmentQueue")
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=[
            "ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"])["Attributes"]
        if attributes["ApproximateNumberOfMessages"] == "0" and attributes["ApproximateNumberOfMessagesNotVisible"] \
                == "0":
            return
        time.sleep(0.2)
    raise AssertionError("the fulfilment queue did not drain")


def pay_in_browser(browser: Any, url: str, success_prefix: str) -> str:
    context = browser.new_context()
    page = context.new_page()
    page.set_default_timeout(15_000)
    try:
        page.goto(url)
        page.fill("#name", "Browser Buyer")
        if page.is_editable("#email"):
            page.fill("#email", "browser@example.com")
        page.fill("#card_number", "4242 4242 4242 4242")
        page.fill("#exp", "12/34")
        page.fill("#cvc", "123")
        with page.expect_navigation(url=lambda target: target.startswith(success_prefix)):
            page.click("#pay")
        return str(page.url)
    finally:
        context.close()


# ------------------------------------------------------------------------------------------------ teachers
def test_a_teacher_creates_edits_and_deactivates_a_course(api, teacher, tokens, stripe_client):
    course = create_course(api, teacher)
    course_id = course["course_id"]
    assert course["status"] == "active"
    product = stripe_client.v1.products.retrieve(f"coursepay_{course_id}")
    assert product.active is True
    assert product.metadata["course_id"] == course_id
    monthly = stripe_client.v1.prices.retrieve(course["pricing"]["monthly"]["stripe_price_id"])
    assert (monthly.unit_amount, monthly.recurring.interval) == (1500, "month")
    assert course_id in [c["course_id"] for c in api.get("/courses", params={"limit": 100}).json()["items"]]

    # another teacher and a student may not change it
    for token in (tokens("teacher"), tokens("student")):
        response = api.patch(f"/courses/{course_id}", token=token, json={"monthly_price": 100})
        assert response.status_code == 403, response.text
        assert api.delete(f"/courses/{course_id}", token=token).status_code == 403
    assert api.patch(f"/courses/{course_id}", json={"title": "x"}).status_code == 401

    edited = api.patch(f"/courses/{course_id}", token=teacher, json={"monthly_price": 1900, "title": "Renamed"})
    assert edited.status_code == 200, edited.text
    new_price = edited.json()["pricing"]["monthly"]["stripe_price_id"]
    assert new_price != monthly.id
    assert stripe_client.v1.prices.retrieve(monthly.id).active is False
    assert stripe_client.v1.prices.retrieve(new_price).unit_amount == 1900
    assert stripe_client.v1.products.retrieve(product.id).name == "Renamed"
    managed = api.get(f"/teacher/courses/{course_id}", token=teacher).json()
    assert sorted((r["amount"], r["state"]) for r in managed["price_history"] if r["pricing"] == "monthly") == [
        (1500, "archived"), (1900, "current")]

    assert api.delete(f"/courses/{course_id}", token=teacher).status_code == 200
    assert api.get(f"/courses/{course_id}").status_code == 404
    assert course_id not in [c["course_id"] for c in api.get("/courses", params={"limit": 100}).json()["items"]]
    assert stripe_client.v1.products.retrieve(product.id).active is False
    mine = api.get("/teacher/courses", token=teacher, params={"limit": 100}).json()["items"]
    assert {"course_id": course_id, "status": "inactive"}.items() <= next(
        c for c in mine if c["course_id"] == course_id).items()


# ------------------------------------------------------------------------------------------------ students
@pytest.mark.browser
@pytest.mark.parametrize("pricing", ["monthly", "one_time"])
def test_a_student_buys_through_the_hosted_page_and_gets_access(api, stack, aws, teacher, tokens, browser,
                                                                eventually, pricing):
    course_id = create_course(api, teacher)["course_id"]
    student = tokens("student")
    assert access(api, student, course_id)["has_access"] is False
    started = checkout(api, stack, student, course_id, pricing)
    assert started.status_code == 201, started.text
    session = started.json()

    landed = pay_in_browser(browser, session["url"], f"{origin(stack)}/done")
    assert landed.endswith(f"session_id={session['session_id']}")
    granted = eventually(lambda: (a := access(api, student, course_id))["has_access"] and a)
    assert granted["reason"] == ("subscription" if pricing == "monthly" else "one_time")

    # the success page confirms through the same fulfilment: nothing more is written
    flush(stack)
    quiet(aws)
    user_id = user_id_of(api, student)
    before = records_of(aws, user_id)
    confirmed = api.post(f"/checkout/sessions/{session['session_id']}/fulfil", token=student)
    assert confirmed.status_code == 200, confirmed.text
    assert confirmed.json()["fulfilled"] is True
    assert records_of(aws, user_id) == before
    assert [c["course_id"] for c in api.get("/me/courses", token=student).json()["items"]] == [course_id]
    succeeded = [p for p in before["payments"] if p["status"] == "succeeded"]
    assert [(p["amount"], p["item_id"], p["kind"]) for p in succeeded] == [
        (1500 if pricing == "monthly" else 9900, course_id, "course")]
    assert checkout(api, stack, student, course_id, pricing).status_code == 409


def test_checkout_error_cases(api, stack, teacher, tokens):
    course_id = create_course(api, teacher, one_time_price=None)["course_id"]
    retired = create_course(api, teacher)["course_id"]
    assert api.delete(f"/courses/{retired}", token=teacher).status_code == 200
    student = tokens("student")
    cases = [
        (checkout(api, stack, student, "crs_unknown", "monthly"), 404),
        (checkout(api, stack, student, retired, "monthly"), 404),
        (checkout(api, stack, student, course_id, "weekly"), 400),
        (checkout(api, stack, student, course_id, "one_time"), 400),
        (checkout(api, stack, student, course_id, "monthly", success_url="https://evil.example.net/x"), 400),
        (checkout(api, stack, student, course_id, "monthly", cancel_url="https://evil.example.net/x"), 400),
    ]
    assert [response.status_code for response, _ in cases] == [expected for _, expected in cases]
    assert checkout(api, stack, None, course_id, "monthly").status_code == 401
    assert api.get("/subscriptions").status_code == 401
    assert api.get(f"/courses/{course_id}/access").status_code == 401


def test_renewal_failed_renewal_and_cancellation_on_a_test_clock(api, stack, teacher, tokens, stripe_client,
                                                                 eventually):
    course_id = create_course(api, teacher)["course_id"]
    student = tokens("student")
    clock = stripe_client.v1.test_helpers.test_clocks.create(params={"frozen_time": int(time.time())})
    config = f"{stack.stripe_url}/_sandbox/config"
    requests.post(config, json={"default_test_clock": clock.id}, timeout=10).raise_for_status()
    try:
        session = checkout(api, stack, student, course_id, "monthly").json()  # the customer joins the clock
    finally:
        requests.post(config, json={"default_test_clock": None}, timeout=10).raise_for_status()
    pay_by_api(stack, session["session_id"])
    [first] = eventually(lambda: [s for s in subscriptions(api, student) if s["status"] == "active"])

    stripe_client.v1.test_helpers.test_clocks.advance(clock.id, params={"frozen_time": clock.frozen_time + 31 * DAY})
    renewed = eventually(lambda: next((s for s in subscriptions(api, student)
                                       if s["current_period_end"] > first["current_period_end"]), None))
    assert renewed["status"] == "active"
    eventually(lambda: access(api, student, course_id)["access_until"] == renewed["access_until"])

    customer = stripe_client.v1.subscriptions.retrieve(renewed["subscription_id"]).customer
    failing = stripe_client.v1.payment_methods.attach("pm_card_chargeCustomerFail", params={"customer": customer})
    stripe_client.v1.subscriptions.update(renewed["subscription_id"], params={"default_payment_method": failing.id})
    stripe_client.v1.test_helpers.test_clocks.advance(clock.id, params={"frozen_time": clock.frozen_time + 62 * DAY})
    eventually(lambda: subscriptions(api, student)[0]["status"] == "past_due")
    grace = eventually(lambda: (a := access(api, student, course_id))["status"] == "past_due" and a)
    assert grace["access_until"] > renewed["current_period_end"]

    other = tokens("student")
    path = f"/subscriptions/{renewed['subscription_id']}/cancel"
    assert api.post(path, token=other, json={}).status_code == 404
    ending = api.post(path, token=student, json={})
    assert ending.status_code == 200, ending.text
    assert ending.json()["cancel_at_period_end"] is True
    ended = api.post(path, token=student, json={"at_period_end": False})
    assert ended.status_code == 200, ended.text
    assert ended.json()["status"] == "canceled"
    # access ends when the subscription ended: on the test clock's time, which is two months ahead of ours
    final = eventually(lambda: (a := access(api, student, course_id))["status"] == "canceled" and a)
    assert final["access_until"] == ended.json()["ended_at"]


def test_replayed_and_duplicated_webhooks_change_nothing_more(api, stack, teacher, tokens, stripe_client, aws,
                                                              eventually):
    course_id = create_course(api, teacher)["course_id"]
    student = tokens("student")
    session = checkout(api, stack, student, course_id, "one_time").json()
    pay_by_api(stack, session["session_id"])
    eventually(lambda: access(api, student, course_id)["has_access"])
    flush(stack)
    quiet(aws)
    user_id = user_id_of(api, student)
    before = records_of(aws, user_id)

    # Stripe delivers every event of the purchase again (same ids), signed afresh
    import stripe as stripe_sdk

    events = [e for e in stripe_client.v1.events.list(params={"limit": 100}).data
              if (e.data.object.to_dict().get("metadata") or {}).get("user_id") == user_id]
    assert {e.type for e in events} >= {"checkout.session.completed"}
    for event in events:
        payload = json.dumps(event.to_dict())
        signature = stripe_sdk.WebhookSignature.generate_signature_header(payload, stack.webhook_secret,
                                                                          int(time.time()))
        replay = api.post("/webhooks/stripe", data=payload, headers={"Stripe-Signature": signature,
                                                                     "Content-Type": "application/json"})
        assert replay.status_code == 200, replay.text
        assert replay.json()["outcome"] in ("duplicate", "ignored")

    # and the bus carries the completion twice (a crash between store and publish)
    completed = next(e for e in events if e.type == "checkout.session.completed")
    envelope = {"version": "1", "id": completed.id, "source": "coursepay.stripe", "type": completed.type,
                "occurred_at": "2026-01-01T00:00:00.000Z", "correlation_id": None, "data": completed.to_dict()}
    aws.client("events").put_events(Entries=[{"EventBusName": aws.name("EventBus"), "Source": "coursepay.stripe",
                                              "DetailType": completed.type, "Detail": json.dumps(envelope)}])
    time.sleep(0.5)
    quiet(aws)
    assert records_of(aws, user_id) == before
