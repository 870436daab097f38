"""The billing core through the course kind's real handlers (checkout + fulfilment functions; moto in-process,
the Stripe sandbox in-process over HTTP): refunds change payment and access as the policy says, one payable
session per buyer and pricing, duplicate purchases refunded, refunds before their payment parked and applied,
disputes suspend and restore, declined attempts keep Stripe's reason."""

from __future__ import annotations

import json
import threading

import pytest

from tests.support.course_market import ORIGIN, STUDENT, Market, running_sandbox
from tests.support.tracks import drain


@pytest.fixture
def market(load_function, monkeypatch, lambda_context):
    # concurrent invocations in one process would share Powertools' metric set (Lambda never does)
    monkeypatch.setenv("POWERTOOLS_METRICS_DISABLED", "true")
    with running_sandbox() as sandbox:
        yield Market(load_function, monkeypatch, sandbox, lambda_context)


def payment(aws, payment_id):
    return aws.table("PaymentsTable").get_item(Key={"pk": f"PAYMENT#{payment_id}", "sk": "PAYMENT"})["Item"]


def has_access(market, course_id, user=STUDENT):
    status, body = market.call(market.checkout, "GET", f"/courses/{course_id}/access",
                               route="/courses/{courseId}/access", user=user)
    assert status == 200, body
    return body["has_access"]


def audit_actions(aws, entity):
    items = aws.table("AuditTable").query(KeyConditionExpression="pk = :e",
                                          ExpressionAttributeValues={":e": entity})["Items"]
    return [item["action"] for item in items]


def bought_once(market, seen, card="4242424242424242"):
    course_id = market.create_course()["course_id"]
    status, session = market.start_checkout(course_id, "one_time")
    assert status == 201, session
    assert market.pay(session["session_id"], card=card)["outcome"] == "complete"
    assert market.deliver_new(seen) == {"batchItemFailures": []}
    return course_id, session["session_id"]


def intent_of(market, session_id):
    return market.stripe().v1.checkout.sessions.retrieve(session_id).payment_intent


def test_partial_then_full_refund_made_at_stripe_changes_payment_and_access(market, aws):
    seen: set[str] = set()
    course_id, session_id = bought_once(market, seen)
    assert has_access(market, course_id)
    stripe = market.stripe()
    stripe.v1.refunds.create(params={"payment_intent": intent_of(market, session_id), "amount": 2900})
    assert market.deliver_new(seen) == {"batchItemFailures": []}
    partial = payment(aws, session_id)
    assert (partial["status"], partial["refunded_amount"], partial["last_refund_amount"]) == (
        "partially_refunded", 2900, 2900)
    assert has_access(market, course_id)  # a partial refund keeps one-time access

    stripe.v1.refunds.create(params={"payment_intent": intent_of(market, session_id)})
    assert market.deliver_new(seen) == {"batchItemFailures": []}
    full = payment(aws, session_id)
    assert (full["status"], full["refunded_amount"], full["last_refund_amount"]) == ("refunded", 9900, 7000)
    assert not has_access(market, course_id)
    assert "enrollment.withdrawn.refunded" in audit_actions(aws, f"enrollment#{STUDENT}#course#{course_id}")
    # a replayed older refund event never lowers what was recorded
    [first_refund] = [e for e in market.events("charge.refunded")][:1]
    assert market.deliver([first_refund]) == {"batchItemFailures": []}
    assert payment(aws, session_id)["refunded_amount"] == 9900


def test_a_refund_delivered_before_its_purchase_completes_is_parked_then_applied(market, aws):
    course_id = market.create_course()["course_id"]
    _, session = market.start_checkout(course_id, "one_time")
    market.pay(session["session_id"])
    market.stripe().v1.refunds.create(params={"payment_intent": intent_of(market, session["session_id"])})
    [refunded] = market.events("charge.refunded")
    # the refund first: acknowledged (no retry, no DLQ), kept aside
    assert market.deliver([refunded]) == {"batchItemFailures": []}
    parked = aws.table("PaymentsTable").scan(FilterExpression="begins_with(pk, :p)",
                                             ExpressionAttributeValues={":p": "PARKED#"})["Items"]
    assert [item["sk"] for item in parked] == [refunded["id"]]
    assert payment(aws, session["session_id"])["status"] == "pending"
    # the completion, whenever it comes, applies it
    assert market.deliver(market.events("checkout.session.completed")) == {"batchItemFailures": []}
    assert payment(aws, session["session_id"])["status"] == "refunded"
    assert not has_access(market, course_id)
    assert aws.table("PaymentsTable").scan(FilterExpression="begins_with(pk, :p)",
                                           ExpressionAttributeValues={":p": "PARKED#"})["Items"] == []


def test_concurrent_checkouts_make_one_payable_session_and_a_changed_one_expires_it(market, aws):
    course_id = market.create_course()["course_id"]
    results: list[tuple[int, dict[str, object]]] = []

    def start() -> None:
        results.append(market.start_checkout(course_id, "one_time"))

    threads = [threading.Thread(target=start) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert [status for status, _ in results] == [201] * 20, results
    assert len({body["session_id"] for _, body in results}) == 1
    with market.sandbox.store.lock:
        open_sessions = [s["id"] for s in market.sandbox.store.all("checkout.session") if s["status"] == "open"]
    assert open_sessions == [results[0][1]["session_id"]]

    status, changed = market.start_checkout(course_id, "one_time", cancel_url=f"{ORIGIN}/elsewhere")
    assert status == 201, changed
    assert changed["session_id"] != results[0][1]["session_id"]
    stripe = market.stripe()
    assert stripe.v1.checkout.sessions.retrieve(str(results[0][1]["session_id"])).status == "expired"
    assert stripe.v1.checkout.sessions.retrieve(changed["session_id"]).status == "open"


def test_an_old_session_paid_for_an_owned_course_is_refunded_and_audited(market, aws):
    seen: set[str] = set()
    course_id = market.create_course()["course_id"]
    _, one_time = market.start_checkout(course_id, "one_time")
    _, monthly = market.start_checkout(course_id, "monthly")
    market.pay(monthly["session_id"])
    assert market.deliver_new(seen) == {"batchItemFailures": []}
    assert has_access(market, course_id)

    market.pay(one_time["session_id"])  # the other tab, still open
    assert market.deliver_new(seen) == {"batchItemFailures": []}
    assert market.deliver_new(seen) == {"batchItemFailures": []}  # the refund's own events
    duplicate = payment(aws, one_time["session_id"])
    assert duplicate["status"] == "refunded"
    assert duplicate["duplicate_of"].startswith("sub_")
    assert "payment.duplicate_purchase" in audit_actions(aws, f"payment#{one_time['session_id']}")
    refunds = market.stripe().v1.refunds.list(params={"payment_intent": intent_of(market, one_time["session_id"])})
    assert [(r.amount, r.reason) for r in refunds.data] == [(9900, "duplicate")]
    assert has_access(market, course_id)  # through the subscription, untouched
    # the money events say so: the buyer is told the refund was of a duplicate, not that access ended
    money = [json.loads(record["body"])["detail"] for record in drain(aws, "NotificationsQueue")]
    refund_events = [event["data"] for event in money if event["type"] == "payment.refunded"
                     and event["data"]["payment_id"] == one_time["session_id"]]
    assert [(r["full"], r["duplicate_of"]) for r in refund_events] == [(True, duplicate["duplicate_of"])]
    assert [e["type"] for e in money if e["data"].get("payment_id") == one_time["session_id"]].count(
        "payment.duplicate_refunded") == 1


def test_a_dispute_suspends_access_and_a_won_dispute_restores_it(market, aws):
    seen: set[str] = set()
    course_id, session_id = bought_once(market, seen, card="4000000000000259")  # disputed right after the charge
    disputed = payment(aws, session_id)
    assert disputed["dispute_status"] == "open"
    assert not has_access(market, course_id)
    market.sandbox_post(f"/_sandbox/disputes/{disputed['dispute_id']}/resolve", {"outcome": "won"})
    assert market.deliver_new(seen) == {"batchItemFailures": []}
    assert payment(aws, session_id)["dispute_status"] == "won"
    assert has_access(market, course_id)
    actions = audit_actions(aws, f"enrollment#{STUDENT}#course#{course_id}")
    assert actions.count("enrollment.suspended.dispute") == 1
    assert actions.count("enrollment.restored.dispute_won") == 1


def test_a_declined_attempt_on_the_hosted_page_records_stripes_reason(market, aws):
    seen: set[str] = set()
    course_id = market.create_course()["course_id"]
    _, session = market.start_checkout(course_id, "one_time")
    assert market.pay(session["session_id"], card="4000000000009995")["outcome"] == "declined"
    assert market.deliver_new(seen) == {"batchItemFailures": []}
    failed = payment(aws, session["session_id"])
    assert failed["status"] == "failed"
    assert failed["failure_reason"].startswith("insufficient_funds")
    # the session stays open: another card still completes the purchase
    assert market.pay(session["session_id"])["outcome"] == "complete"
    assert market.deliver_new(seen) == {"batchItemFailures": []}
    assert payment(aws, session["session_id"])["status"] == "succeeded"
    assert has_access(market, course_id)
