"""Buying courses: checkout, the one fulfilment path (success page and webhook), renewals and failed renewals on
a test clock, cancellation, access (checkout + fulfilment functions; moto + the Stripe sandbox in-process)."""

from __future__ import annotations

import threading
import time
from datetime import datetime, timedelta

import pytest

from coursepay.correlation import of_purchase_attempt
from coursepay.subscriptions.models import Subscription
from coursepay.subscriptions.repository import SubscriptionsRepository
from tests.support.course_market import (
    ORIGIN,
    OTHER_STUDENT,
    STUDENT,
    TEACHER,
    Market,
    running_sandbox,
)

DAY = 24 * 3600


@pytest.fixture
def market(load_function, monkeypatch, lambda_context):
    with running_sandbox() as sandbox:
        yield Market(load_function, monkeypatch, sandbox, lambda_context)


def scan(aws, logical_id):
    return sorted(aws.table(logical_id).scan()["Items"], key=lambda item: (item["pk"], item.get("sk", "")))


def state(aws):
    """Everything the purchase path writes (the idempotency table also holds per-event receipts: left out)."""
    return {name: scan(aws, name) for name in ("PaymentsTable", "EnrollmentsTable", "AuditTable", "AccountsTable")}


def fulfil(market, session_id, user=STUDENT):
    return market.call(market.checkout, "POST", f"/checkout/sessions/{session_id}/fulfil",
                       route="/checkout/sessions/{sessionId}/fulfil", user=user)


def access(market, course_id, user=STUDENT):
    status, body = market.call(market.checkout, "GET", f"/courses/{course_id}/access",
                               route="/courses/{courseId}/access", user=user)
    assert status == 200, body
    return body


def subscriptions(market, user=STUDENT):
    status, body = market.call(market.checkout, "GET", "/subscriptions", user=user)
    assert status == 200, body
    return body["items"]


def buy(market, course_id, pricing, user=STUDENT, card="4242424242424242"):
    status, session = market.start_checkout(course_id, pricing, user=user)
    assert status == 201, session
    outcome = market.pay(session["session_id"], card=card)
    return session, outcome


def test_a_monthly_purchase_is_fulfilled_once_by_success_page_and_webhook_alike(market, aws):
    course = market.create_course()
    course_id = course["course_id"]
    status, session = market.start_checkout(course_id, "monthly")
    assert status == 201, session
    assert session["url"].startswith(market.sandbox.url)
    assert (session["amount"], session["currency"], session["pricing"]) == (1500, "usd", "monthly")
    stripe_session = market.stripe().v1.checkout.sessions.retrieve(session["session_id"])
    assert stripe_session.mode == "subscription"
    metadata = stripe_session.metadata.to_dict()
    # the purchase's own id, derived from the attempt's idempotency key (coursepay.correlation.of_purchase_attempt)
    assert metadata.pop("correlation_id") == of_purchase_attempt(f"checkout-{STUDENT}-course-{course_id}-monthly-g1")
    assert metadata == {"kind": "course", "course_id": course_id, "user_id": STUDENT, "pricing": "monthly",
                        "channel": "checkout"}
    [mapping] = [i for i in scan(aws, "AccountsTable") if i["sk"] == "STRIPE_CUSTOMER"]
    assert stripe_session.customer == mapping["customer_id"]

    market.pay(session["session_id"])
    assert fulfil(market, session["session_id"], user=OTHER_STUDENT)[0] == 404
    status, result = fulfil(market, session["session_id"])
    assert status == 200, result
    assert result["fulfilled"] is True
    assert result["access"]["has_access"] is True
    assert result["access"]["reason"] == "subscription"
    [subscription] = subscriptions(market)
    assert subscription["course_id"] == course_id
    assert subscription["status"] == "active"
    assert subscription["cancel_at_period_end"] is False
    assert subscription["current_period_end"]
    assert subscriptions(market, user=OTHER_STUDENT) == []

    # the same session's webhook events: nothing is fulfilled twice
    enrollment_audit = [i for i in scan(aws, "AuditTable") if i["pk"].startswith("enrollment#")]
    assert len(enrollment_audit) == 1
    events = market.events()
    assert market.deliver(events) == {"batchItemFailures": []}
    after_webhook = state(aws)
    assert [i for i in after_webhook["AuditTable"] if i["pk"].startswith("enrollment#")] == enrollment_audit
    [invoice_payment] = [p for p in after_webhook["PaymentsTable"] if p["pk"].startswith("PAYMENT#in_")]
    assert (invoice_payment["status"], invoice_payment["amount"], invoice_payment["item_id"]) == (
        "succeeded", 1500, course_id)

    # replayed webhooks and a repeated success page change nothing more
    assert market.deliver(events) == {"batchItemFailures": []}
    assert fulfil(market, session["session_id"])[1]["fulfilled"] is True
    assert state(aws) == after_webhook

    status, body = market.start_checkout(course_id, "one_time")
    assert status == 409, body
    status, mine = market.call(market.checkout, "GET", "/me/courses", user=STUDENT)
    assert [(c["course_id"], c["title"], c["has_access"]) for c in mine["items"]] == [
        (course_id, "Python for kids", True)]


def test_a_one_time_purchase_is_recorded_and_gives_lifetime_access_through_the_webhook(market, aws):
    course_id = market.create_course()["course_id"]
    assert access(market, course_id)["has_access"] is False
    status, session = market.start_checkout(course_id, "one_time")
    assert status == 201, session
    payment = aws.table("PaymentsTable").get_item(Key={"pk": f"PAYMENT#{session['session_id']}", "sk": "PAYMENT"})
    assert payment["Item"]["status"] == "pending"
    assert payment["Item"]["amount"] == 9900

    market.pay(session["session_id"])
    assert market.deliver(market.events()) == {"batchItemFailures": []}
    payment = aws.table("PaymentsTable").get_item(Key={"pk": f"PAYMENT#{session['session_id']}",
                                                       "sk": "PAYMENT"})["Item"]
    assert payment["status"] == "succeeded"
    assert payment["stripe_payment_intent_id"].startswith("pi_")
    assert (payment["user_id"], payment["kind"], payment["item_id"], payment["currency"]) == (
        STUDENT, "course", course_id, "usd")
    granted = access(market, course_id)
    assert (granted["has_access"], granted["reason"], granted["access_until"]) == (True, "one_time", None)
    actions = sorted(i["action"] for i in scan(aws, "AuditTable") if not i["pk"].startswith("course#"))
    assert actions == ["enrollment.granted", "payment.pending", "payment.succeeded"]

    before = state(aws)
    assert fulfil(market, session["session_id"])[1]["fulfilled"] is True
    assert state(aws) == before
    assert access(market, course_id, user=TEACHER)["reason"] == "teacher"
    assert access(market, course_id, user=OTHER_STUDENT)["has_access"] is False


def test_a_live_subscription_refuses_the_checkout_even_where_the_enrollment_gives_no_access(market, aws):
    """The enrollment cannot tell a live past_due subscription from an unpaid one: the (student, course) mark can,
    read in the checkout's batch (coursepay.subscriptions.repository)."""
    course_id = market.create_course()["course_id"]
    subscriptions_repository = SubscriptionsRepository(aws.name("PaymentsTable"))
    past_due = Subscription(subscription_id="sub_renewing", user_id=STUDENT, course_id=course_id, status="past_due")
    subscriptions_repository.save(past_due)  # no enrollment: it is the subscription alone that refuses
    assert access(market, course_id)["has_access"] is False
    status, refused = market.start_checkout(course_id, "one_time")
    assert (status, refused["error"]["field"]) == (409, "courseId"), refused
    assert market.start_checkout(course_id, "one_time", user=OTHER_STUDENT)[0] == 201  # the mark is the student's

    subscriptions_repository.save(past_due.model_copy(update={"status": "unpaid"}))  # no longer live
    status, session = market.start_checkout(course_id, "one_time")
    assert status == 201, session


def test_checkout_error_cases_create_nothing_in_stripe(market, aws):
    course_id = market.create_course(one_time_price=None)["course_id"]
    retired = market.create_course(title="Retired")["course_id"]
    assert market.call(market.courses, "DELETE", f"/courses/{retired}", route="/courses/{courseId}",
                       user=TEACHER)[0] == 200
    cases = [
        (market.start_checkout("crs_unknown", "monthly"), 404, "courseId"),
        (market.start_checkout(retired, "monthly"), 404, "courseId"),
        (market.start_checkout(course_id, "yearly"), 400, "pricing"),
        (market.start_checkout(course_id, "one_time"), 400, "pricing"),
        (market.start_checkout(course_id, "monthly", success_url="https://evil.example.net/done"), 400,
         "success_url"),
        (market.start_checkout(course_id, "monthly", cancel_url="javascript:alert(1)"), 400, "cancel_url"),
        (market.start_checkout(course_id, "monthly", success_url=f"{ORIGIN}.evil.net/x"), 400, "success_url"),
        (market.start_checkout(course_id, "monthly", success_url=f"https://user@{ORIGIN[8:]}/x"), 400,
         "success_url"),
        (market.start_checkout(course_id, "monthly", amount=1), 400, "amount"),
    ]
    for (status, body), expected, field in cases:
        assert status == expected, body
        assert body["error"]["field"] == field
    unauthenticated = market.call(market.checkout, "POST", f"/courses/{course_id}/checkout",
                                  route="/courses/{courseId}/checkout",
                                  body={"pricing": "monthly", "success_url": ORIGIN, "cancel_url": ORIGIN})
    assert unauthenticated[0] == 401
    with market.sandbox.store.lock:
        assert market.sandbox.store.all("checkout.session") == []
        assert market.sandbox.store.all("customer") == []
    assert [i for i in scan(aws, "PaymentsTable")] == []


def test_one_stripe_customer_per_student_even_under_concurrent_checkouts(market, aws, monkeypatch):
    courses = [market.create_course(title=f"Course {n}")["course_id"] for n in range(4)]
    # Four invocations at once in one process share Powertools' metric set, which Lambda never does (one
    # invocation per container at a time): keep metrics out of this test so their flushes cannot collide.
    monkeypatch.setenv("POWERTOOLS_METRICS_DISABLED", "true")
    results = []

    def start(course_id):
        results.append(market.start_checkout(course_id, "one_time"))

    threads = [threading.Thread(target=start, args=(course_id,)) for course_id in courses]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(status for status, _ in results) == [201] * 4
    with market.sandbox.store.lock:
        customers = market.sandbox.store.all("customer")
        sessions = market.sandbox.store.all("checkout.session")
    assert len(customers) == 1
    assert {s["customer"] for s in sessions} == {customers[0]["id"]}
    assert [i["customer_id"] for i in scan(aws, "AccountsTable") if i["sk"] == "STRIPE_CUSTOMER"] == [
        customers[0]["id"]]


def test_renewal_and_failed_renewal_on_a_test_clock(market, aws):
    stripe = market.stripe()
    clock = stripe.v1.test_helpers.test_clocks.create(params={"frozen_time": int(time.time())})
    market.sandbox_post("/_sandbox/config", {"default_test_clock": clock.id})
    course_id = market.create_course()["course_id"]
    _session, _ = buy(market, course_id, "monthly")
    seen: set[str] = set()
    assert market.deliver_new(seen) == {"batchItemFailures": []}
    [first] = subscriptions(market)

    # renewal: the period moves on, the invoice is a payment, access is extended
    stripe.v1.test_helpers.test_clocks.advance(clock.id, params={"frozen_time": clock.frozen_time + 31 * DAY})
    assert market.deliver_new(seen) == {"batchItemFailures": []}
    [renewed] = subscriptions(market)
    assert renewed["status"] == "active"
    assert renewed["current_period_end"] > first["current_period_end"]
    assert renewed["access_until"] > first["access_until"]
    paid = [p for p in scan(aws, "PaymentsTable") if p["pk"].startswith("PAYMENT#in_")]
    assert [(p["status"], p["amount"]) for p in paid] == [("succeeded", 1500), ("succeeded", 1500)]
    assert access(market, course_id)["access_until"] == renewed["access_until"]

    # failed renewal: past_due, access for the grace period after the last paid period
    failing = stripe.v1.payment_methods.attach("pm_card_chargeCustomerFail",
                                               params={"customer": renewed_customer(aws)})
    stripe.v1.subscriptions.update(renewed["subscription_id"], params={"default_payment_method": failing.id})
    stripe.v1.test_helpers.test_clocks.advance(clock.id, params={"frozen_time": clock.frozen_time + 62 * DAY})
    assert market.deliver_new(seen) == {"batchItemFailures": []}
    [past_due] = subscriptions(market)
    assert past_due["status"] == "past_due"
    payments = sorted(p["status"] for p in scan(aws, "PaymentsTable") if p["pk"].startswith("PAYMENT#in_"))
    assert payments == ["failed", "succeeded", "succeeded"]
    enrollment = access(market, course_id)
    assert enrollment["status"] == "past_due"
    last_paid_until = datetime.fromisoformat(renewed["current_period_end"])
    assert datetime.fromisoformat(enrollment["access_until"]) == last_paid_until + timedelta(days=3)

    # everything delivered again (Stripe retries, bus duplicates): nothing changes
    before = state(aws)
    assert market.deliver(market.events()) == {"batchItemFailures": []}
    assert state(aws) == before


def renewed_customer(aws):
    [mapping] = [i for i in scan(aws, "AccountsTable") if i["sk"] == "STRIPE_CUSTOMER"]
    return mapping["customer_id"]


def test_cancellation_at_period_end_and_now_only_by_the_subscriber(market, aws):
    course_id = market.create_course()["course_id"]
    buy(market, course_id, "monthly")
    market.deliver(market.events())
    [subscription] = subscriptions(market)
    sub_id = subscription["subscription_id"]
    path, route = f"/subscriptions/{sub_id}/cancel", "/subscriptions/{subscriptionId}/cancel"

    assert market.call(market.checkout, "POST", path, route=route, user=OTHER_STUDENT, body={})[0] == 404
    assert market.call(market.checkout, "POST", path, route=route, body={})[0] == 401
    status, ending = market.call(market.checkout, "POST", path, route=route, user=STUDENT, body={})
    assert status == 200, ending
    assert ending["status"] == "active"
    assert ending["cancel_at_period_end"] is True
    assert ending["access_until"] == ending["current_period_end"]
    assert access(market, course_id)["has_access"] is True

    status, ended = market.call(market.checkout, "POST", path, route=route, user=STUDENT,
                                body={"at_period_end": False})
    assert status == 200, ended
    assert ended["status"] == "canceled"
    assert access(market, course_id)["has_access"] is False
    assert market.call(market.checkout, "POST", path, route=route, user=STUDENT, body={})[0] == 409
    seen_actions = [i["action"] for i in scan(aws, "AuditTable") if i["pk"] == f"subscription#{sub_id}"]
    assert seen_actions.count("subscription.cancel_requested") == 2

    before = state(aws)
    assert market.deliver(market.events()) == {"batchItemFailures": []}
    assert state(aws)["EnrollmentsTable"] == before["EnrollmentsTable"]
    assert subscriptions(market)[0]["status"] == "canceled"


def test_deactivating_a_course_ends_subscriptions_at_period_end_and_keeps_one_time_access(market, aws):
    course_id = market.create_course()["course_id"]
    buy(market, course_id, "monthly", user=STUDENT)
    buy(market, course_id, "one_time", user=OTHER_STUDENT)
    seen: set[str] = set()
    market.deliver_new(seen)
    assert market.call(market.courses, "DELETE", f"/courses/{course_id}", route="/courses/{courseId}",
                       user=TEACHER)[0] == 200
    assert market.deliver_new(seen) == {"batchItemFailures": []}
    [subscription] = subscriptions(market)
    assert subscription["cancel_at_period_end"] is True
    assert access(market, course_id)["has_access"] is True
    assert access(market, course_id, user=OTHER_STUDENT)["reason"] == "one_time"


def test_an_expired_session_cancels_its_pending_payment(market, aws):
    course_id = market.create_course()["course_id"]
    status, session = market.start_checkout(course_id, "one_time")
    assert status == 201
    market.stripe().v1.checkout.sessions.expire(session["session_id"])
    assert market.deliver(market.events()) == {"batchItemFailures": []}
    payment = aws.table("PaymentsTable").get_item(Key={"pk": f"PAYMENT#{session['session_id']}",
                                                       "sk": "PAYMENT"})["Item"]
    assert payment["status"] == "canceled"
    assert access(market, course_id)["has_access"] is False


@pytest.mark.parametrize(("account", "outcome", "has_access"), [("000123456789", "succeeded", True),
                                                                 ("000111111116", "failed", False)])
def test_a_delayed_bank_debit_is_fulfilled_or_failed_when_it_settles(market, aws, account, outcome, has_access):
    course_id = market.create_course()["course_id"]
    status, session = market.start_checkout(course_id, "one_time")
    assert status == 201
    paid = market.sandbox_post(f"/_sandbox/checkout/sessions/{session['session_id']}/complete",
                               {"email": "s@example.com", "name": "S", "payment_method_type": "us_bank_account",
                                "account_number": account})
    assert paid["outcome"] == "processing"
    seen: set[str] = set()
    assert market.deliver_new(seen) == {"batchItemFailures": []}  # completed, but unpaid: no access yet
    assert fulfil(market, session["session_id"])[1]["fulfilled"] is False
    assert access(market, course_id)["has_access"] is False

    market.sandbox_post(f"/_sandbox/payment_intents/{paid['payment_intent']}/settle", {})
    assert market.deliver_new(seen) == {"batchItemFailures": []}
    payment = aws.table("PaymentsTable").get_item(Key={"pk": f"PAYMENT#{session['session_id']}",
                                                       "sk": "PAYMENT"})["Item"]
    assert payment["status"] == outcome
    assert access(market, course_id)["has_access"] is has_access
