"""Tracing a purchase through the local stack: the correlation id a course checkout answers with (its
x-correlation-id response header) is the X-Correlation-ID header of the receipt in the outbox, after the Stripe
sandbox's webhook -> bus -> fulfilment -> money event -> notifications."""

from __future__ import annotations

import uuid
from typing import Any

from local.stack.seed import DEMO_PASSWORD
from tests.support.accounts import register_verified
from tests.support.billing_stack import pay as pay_by_api

TEACHER = "teacher@coursepay.local"
COURSE = {"title": "Integration: tracing", "description": "One id end to end", "outline": ["Ids"],
          "one_time_price": 2500, "currency": "usd"}


def test_the_receipt_carries_the_correlation_id_the_checkout_answered_with(api, stack, login, outbox, eventually):
    teacher = login(TEACHER)["access_token"]
    course = api.post("/courses", token=teacher, json=COURSE, headers={"Idempotency-Key": uuid.uuid4().hex})
    assert course.status_code == 201, course.text
    assert course.headers["x-correlation-id"]  # every response names its id

    email = f"tracing-{uuid.uuid4().hex[:8]}@example.com"
    register_verified(api, stack, email, DEMO_PASSWORD, "student")
    student = login(email)["access_token"]
    base = str(stack.api_url).rstrip("/")
    started = api.post(f"/courses/{course.json()['course_id']}/checkout", token=student,
                       json={"pricing": "one_time", "success_url": f"{base}/done?session_id={{CHECKOUT_SESSION_ID}}",
                             "cancel_url": f"{base}/cancelled"})
    assert started.status_code == 201, started.text
    correlation_id = started.headers["x-correlation-id"]
    assert correlation_id
    assert correlation_id != course.headers["x-correlation-id"]

    pay_by_api(stack, started.json()["session_id"])
    receipts = eventually(lambda: [m for m in outbox() if m["to"] == [email] and "receipt" in m["subject"].lower()],
                          timeout=30)
    assert [m["correlation_id"] for m in receipts] == [correlation_id]


def test_a_well_formed_caller_id_is_kept_and_a_bad_one_replaced(api: Any) -> None:
    mine = f"client-{uuid.uuid4().hex}"
    assert api.get("/tracks", headers={"x-correlation-id": mine}).headers["x-correlation-id"] == mine
    replaced = api.get("/tracks", headers={"x-correlation-id": "no spaces allowed"}).headers["x-correlation-id"]
    assert replaced
    assert replaced != "no spaces allowed"
