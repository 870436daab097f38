"""Tracing a purchase through the local stack: the checkout's ``purchase traced`` log line links the request's
correlation id (its x-correlation-id response header) to the purchase's, which the Stripe session's metadata, the
payment record and the X-Correlation-ID header of the receipt in the outbox carry, after the Stripe sandbox's
webhook -> bus -> fulfilment -> money event -> notifications."""

from __future__ import annotations

import json
import uuid
from typing import Any

from local.stack.seed import DEMO_PASSWORD
from tests.support.accounts import register_verified
from tests.support.billing_stack import pay as pay_by_api

TEACHER = "teacher@coursepay.local"
COURSE = {"title": "Integration: tracing", "description": "One id end to end", "outline": ["Ids"],
          "one_time_price": 2500, "currency": "usd"}


def purchase_traced(stack: Any, request_id: str) -> list[str]:
    """The purchase ids the checkout function's ``purchase traced`` lines name for the request (the stack's log
    has each function's Powertools lines as ``<time> [<logical id>] <json>``)."""
    lines = (stack.state_dir / "stack.log").read_text(errors="replace").splitlines()
    records = [json.loads(line.split(" [CheckoutFunction] ", 1)[1]) for line in lines
               if " [CheckoutFunction] {" in line and '"purchase traced"' in line]
    return [r["purchase_correlation_id"] for r in records if r.get("correlation_id") == request_id]


def test_the_receipt_carries_the_purchases_id_the_checkout_request_logged(api, stack, aws, login, outbox, eventually,
                                                                           stripe_client):
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
    request_id = started.headers["x-correlation-id"]
    assert request_id
    assert request_id != course.headers["x-correlation-id"]
    [purchase] = eventually(lambda: purchase_traced(stack, request_id))  # the log line of the request
    assert purchase.startswith("pur-")
    session_id = started.json()["session_id"]
    assert stripe_client.v1.checkout.sessions.retrieve(session_id).metadata["correlation_id"] == purchase
    payment = aws.table("PaymentsTable").get_item(Key={"pk": f"PAYMENT#{session_id}", "sk": "PAYMENT"})["Item"]
    assert payment["correlation_id"] == purchase

    pay_by_api(stack, session_id)
    receipts = eventually(lambda: [m for m in outbox() if m["to"] == [email] and "receipt" in m["subject"].lower()],
                          timeout=30)
    assert [m["correlation_id"] for m in receipts] == [purchase]


def test_a_well_formed_caller_id_is_kept_and_a_bad_one_replaced(api: Any) -> None:
    mine = f"client-{uuid.uuid4().hex}"
    assert api.get("/tracks", headers={"x-correlation-id": mine}).headers["x-correlation-id"] == mine
    replaced = api.get("/tracks", headers={"x-correlation-id": "no spaces allowed"}).headers["x-correlation-id"]
    assert replaced
    assert replaced != "no spaces allowed"
