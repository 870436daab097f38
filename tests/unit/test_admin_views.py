"""Admin views of the payments function: the payment search (filters, date range, pages across months, served by
the gsi1 and gsi3 queries) and one user's payments and enrollments; admins only (moto in-process)."""

from __future__ import annotations

import uuid

import pytest

from coursepay.billing.enrollments import Enrollment, EnrollmentsRepository
from coursepay.billing.payments import Payment, PaymentsRepository
from tests.support.tracks import call, new_student

pytest_plugins = ("tests.support.tracks_fixtures",)

# (day, status, kind) of the payments of two buyers, across a month boundary
ANN = [("2026-10-30", "succeeded", "course"), ("2026-11-02", "failed", "track"), ("2026-11-03", "succeeded", "track"),
       ("2026-11-20", "refunded", "course")]
BOB = [("2026-10-31", "succeeded", "track"), ("2026-11-03", "pending", "booking"),
       ("2026-12-01", "succeeded", "course")]


@pytest.fixture
def ledger(aws):
    payments = PaymentsRepository(aws.name("PaymentsTable"))
    made: dict[str, list[Payment]] = {}
    for buyer, rows in (("ann", ANN), ("bob", BOB)):
        user_id = f"user-{buyer}-{uuid.uuid4().hex[:6]}"
        made[buyer] = []
        for n, (day, status, kind) in enumerate(rows):
            payment = Payment(payment_id=f"pi_{buyer}{n}", user_id=user_id, kind=kind, item_id="item", amount=1000,
                              currency="usd", status=status, created_at=f"{day}T10:00:0{n}.000Z")
            assert payments.create(payment)
            made[buyer].append(payment)
    return made


def search(payments, ctx, admin, **query):
    return call(payments, ctx, "GET", "/admin/payments", who=admin, query={k: str(v) for k, v in query.items()})


def newest_first(payments):
    return [p.payment_id for p in sorted(payments, key=lambda p: p.created_at, reverse=True)]


def test_admins_only(payments, lambda_context, aws, ledger):
    student = new_student(aws)
    assert search(payments, lambda_context, student)[0] == 403
    route = "/admin/users/{userId}"
    assert call(payments, lambda_context, "GET", "/admin/users/someone", route=route, who=student)[0] == 403


def test_filters_and_the_date_range(payments, lambda_context, aws, ledger):
    admin = new_student(aws, "Ada", "admins")
    everything = ledger["ann"] + ledger["bob"]
    status, page = search(payments, lambda_context, admin, **{"from": "2026-10-01", "to": "2026-12-31"})
    assert status == 200, page
    assert [p["payment_id"] for p in page["items"]] == newest_first(everything)
    assert page["next_cursor"] is None

    _, page = search(payments, lambda_context, admin, status="succeeded", **{"from": "2026-10-01", "to": "2026-12-31"})
    assert [p["payment_id"] for p in page["items"]] == newest_first([p for p in everything if p.status == "succeeded"])

    _, page = search(payments, lambda_context, admin, kind="track", status="succeeded",
                     **{"from": "2026-10-01", "to": "2026-12-31"})
    assert [p["payment_id"] for p in page["items"]] == ["pi_ann2", "pi_bob0"]

    # the range is of whole days, both ends included
    _, page = search(payments, lambda_context, admin, **{"from": "2026-10-31", "to": "2026-11-03"})
    assert [p["payment_id"] for p in page["items"]] == ["pi_ann2", "pi_bob1", "pi_ann1", "pi_bob0"]

    ann = ledger["ann"][0].user_id
    _, page = search(payments, lambda_context, admin, user_id=ann, **{"from": "2026-11-01", "to": "2026-11-30"})
    assert [p["payment_id"] for p in page["items"]] == ["pi_ann3", "pi_ann2", "pi_ann1"]
    _, page = search(payments, lambda_context, admin, user_id=ann, kind="course",
                     **{"from": "2026-10-01", "to": "2026-12-31"})
    assert [(p["payment_id"], p["user_id"]) for p in page["items"]] == [("pi_ann3", ann), ("pi_ann0", ann)]


@pytest.mark.parametrize("limit", [1, 2, 3])
def test_pages_walk_across_months_without_gaps_or_repeats(payments, lambda_context, aws, ledger, limit):
    admin = new_student(aws, "Ada", "admins")
    seen, cursor, pages = [], None, 0
    while True:
        query = {"from": "2026-09-15", "to": "2026-12-31", "limit": limit, **({"cursor": cursor} if cursor else {})}
        status, page = search(payments, lambda_context, admin, **query)
        assert status == 200, page
        assert len(page["items"]) <= limit
        seen += [p["payment_id"] for p in page["items"]]
        pages += 1
        cursor = page["next_cursor"]
        if cursor is None:
            break
        assert pages < 20
    assert seen == newest_first(ledger["ann"] + ledger["bob"])


@pytest.mark.parametrize(("query", "field"), [
    ({"status": "paid"}, "status"), ({"kind": "book"}, "kind"), ({"user_id": "a b"}, "user_id"),
    ({"from": "2026-13-01"}, "from"), ({"to": "yesterday"}, "to"), ({"from": "2026-11-02", "to": "2026-11-01"}, "from"),
    ({"from": "2024-01-01", "to": "2026-01-01"}, "from"), ({"limit": "0"}, "limit"), ({"limit": "x"}, "limit"),
    ({"cursor": "not-a-cursor"}, "cursor"),
])
def test_a_bad_filter_is_a_400_naming_it(payments, lambda_context, aws, query, field):
    admin = new_student(aws, "Ada", "admins")
    status, error = search(payments, lambda_context, admin, **query)
    assert (status, error["error"]["field"]) == (400, field)


def test_a_cursor_of_another_query_is_refused(payments, lambda_context, aws, ledger):
    admin = new_student(aws, "Ada", "admins")
    _, page = search(payments, lambda_context, admin, limit=1, **{"from": "2026-10-01", "to": "2026-12-31"})
    status, error = search(payments, lambda_context, admin, cursor=page["next_cursor"],
                           **{"from": "2026-01-01", "to": "2026-02-01"})
    assert (status, error["error"]["field"]) == (400, "cursor")


def test_a_users_payments_and_enrollments(payments, lambda_context, aws, ledger):
    admin = new_student(aws, "Ada", "admins")
    ann = ledger["ann"][0].user_id
    EnrollmentsRepository(aws.name("EnrollmentsTable")).save(
        Enrollment(user_id=ann, kind="track", item_id="DP", source="pi_ann2"))
    status, body = call(payments, lambda_context, "GET", f"/admin/users/{ann}", route="/admin/users/{userId}",
                        who=admin)
    assert status == 200, body
    assert [p["payment_id"] for p in body["payments"]] == ["pi_ann3", "pi_ann2", "pi_ann1", "pi_ann0"]
    assert [(e["kind"], e["item_id"], e["source"]) for e in body["enrollments"]] == [("track", "DP", "pi_ann2")]
    status, body = call(payments, lambda_context, "GET", "/admin/users/nobody-here", route="/admin/users/{userId}",
                        who=admin)
    assert (status, body["payments"], body["enrollments"]) == (200, [], [])


# ------------------------------------------------------------------------------------------------ the summary
def money_event(event_type, data, day, event_id=None):
    from coursepay.billing.events import billing_envelope

    envelope = billing_envelope(event_type, event_id or f"ev_{uuid.uuid4().hex}", data, None)
    return envelope.model_copy(update={"occurred_at": f"{day}T12:00:00.000Z"})


def facts(kind="course", amount=1000, currency="usd", payment_id=None):
    return {"payment_id": payment_id or f"pi_{uuid.uuid4().hex[:8]}", "user_id": "u1", "kind": kind,
            "item_id": "item", "item_name": "Item", "amount": amount, "currency": currency}


def test_the_summary_counts_each_money_event_once_from_the_bus(payments, consumers, aws, lambda_context):
    from coursepay.billing import events as money
    from coursepay.events.publisher import EventPublisher
    from tests.support.tracks import consume, drain

    refunded = facts(amount=4000)
    day = "2026-11-10"
    events = [
        money_event(money.PAYMENT_SUCCEEDED, money.PaymentSucceeded(**refunded, purchase="one_time"), day),
        money_event(money.PAYMENT_SUCCEEDED, money.PaymentSucceeded(**facts(amount=1500), purchase="one_time"), day),
        money_event(money.PAYMENT_SUCCEEDED, money.PaymentSucceeded(**facts("track", 49900), purchase="one_time"),
                    "2026-12-01"),
        money_event(money.PAYMENT_SUCCEEDED, money.PaymentSucceeded(**facts(currency="eur", amount=900),
                                                                   purchase="one_time"), day),
        money_event(money.PAYMENT_FAILED, money.PaymentFailed(**facts(), purchase="one_time",
                                                              failure_reason="card_declined"), day),
        # a partial refund, then the rest: one refunded payment, all of its amount
        money_event(money.PAYMENT_REFUNDED, money.PaymentRefunded(**refunded, refund_amount=1000, refunded_total=1000,
                                                                  full=False), "2026-11-11"),
        money_event(money.PAYMENT_REFUNDED, money.PaymentRefunded(**refunded, refund_amount=3000, refunded_total=4000,
                                                                  full=True), "2026-11-12"),
    ]
    # the ledger publishes them; LedgerSummaryRule routes them to the fulfilment queue
    EventPublisher(aws.name("EventBus")).publish(events)
    records = drain(aws, "FulfilmentQueue")
    assert len(records) == len(events)
    fulfilment = consumers("fulfilment")
    assert fulfilment.lambda_handler({"Records": records}, lambda_context) == {"batchItemFailures": []}
    # the same events again: a redelivery (the consumer's claim) and a replay its claim no longer knows
    assert fulfilment.lambda_handler({"Records": records}, lambda_context) == {"batchItemFailures": []}
    aws.table("IdempotencyTable").delete_item(Key={"pk": f"fulfilment#{events[0].id}"})
    consume(fulfilment, lambda_context, events[0])

    admin = new_student(aws, "Ada", "admins")
    status, summary = call(payments, lambda_context, "GET", "/admin/summary", who=admin,
                           query={"from": "2026-11-01", "to": "2026-11-30"})
    assert status == 200, summary
    assert (summary["succeeded"], summary["failed"], summary["refunded_payments"]) == (3, 1, 1)
    assert summary["success_rate"] == 0.75
    assert summary["refund_rate"] == round(1 / 3, 4)
    assert summary["revenue"] == [
        {"kind": "course", "currency": "eur", "succeeded": 1, "revenue": 900, "refunded": 0, "net": 900},
        {"kind": "course", "currency": "usd", "succeeded": 2, "revenue": 5500, "refunded": 4000, "net": 1500}]

    _, whole = call(payments, lambda_context, "GET", "/admin/summary", who=admin,
                    query={"from": "2026-11-12", "to": "2026-12-31"})
    assert (whole["succeeded"], whole["refunded_payments"]) == (1, 0)
    assert [(r["kind"], r["revenue"], r["refunded"]) for r in whole["revenue"]] == [("course", 0, 3000),
                                                                                     ("track", 49900, 0)]
    _, empty = call(payments, lambda_context, "GET", "/admin/summary", who=admin,
                    query={"from": "2026-01-01", "to": "2026-01-31"})
    assert (empty["success_rate"], empty["refund_rate"], empty["revenue"]) == (None, None, [])

    assert call(payments, lambda_context, "GET", "/admin/summary", who=new_student(aws))[0] == 403
    status, error = call(payments, lambda_context, "GET", "/admin/summary", who=admin, query={"from": "11/01/2026"})
    assert (status, error["error"]["field"]) == (400, "from")
