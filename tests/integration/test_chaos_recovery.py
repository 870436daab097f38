"""Issue 8's acceptance under webhook chaos, through the local stack: while half of Stripe's deliveries are lost
(answered 500 without retries), others duplicated and shuffled, 100 payment-first purchases are made; after one
reconciliation run every purchase ends fulfilled exactly once and every e-mail is sent exactly once."""

from __future__ import annotations

import os
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
import requests

from local.stack.stack import LocalStack
from tests.support.purchases import buy

PURCHASES = int(os.environ.get("CHAOS_PURCHASES", "100"))  # fewer for a quick local look
CONCURRENCY = 8


@pytest.fixture
def chaos(stack: LocalStack) -> Iterator[None]:
    url = f"{stack.stripe_url}/_sandbox/chaos"
    requests.post(url, json={"fail": 0.5, "fail_mode": "status", "max_attempts": 1, "duplicate": 0.3,
                             "shuffle": True, "seed": 8}, timeout=10).raise_for_status()
    try:
        yield
    finally:
        requests.post(url, json={"fail": 0, "max_attempts": None, "duplicate": 0, "shuffle": False},
                      timeout=10).raise_for_status()


def test_a_hundred_purchases_under_webhook_chaos_end_fulfilled_once_after_reconciliation(
        stack: LocalStack, api: Any, aws: Any, chaos: None, outbox: Callable[[], list[dict[str, Any]]],
        eventually: Callable[..., Any]) -> None:
    run = uuid.uuid4().hex[:6]
    emails = [f"chaos-{run}-{n:03d}@example.com" for n in range(PURCHASES)]
    with ThreadPoolExecutor(CONCURRENCY) as pool:
        sessions = list(pool.map(lambda email: buy(stack, api.session, email), emails))
    flushed = requests.post(f"{stack.stripe_url}/_sandbox/webhooks/flush", json={"timeout": 60}, timeout=90)
    assert flushed.json()["flushed"], flushed.text

    recovered = api.post("/_local/schedules/ReconciliationFunction/run", timeout=300)
    assert recovered.status_code == 200, recovered.text
    assert recovered.json()["runs"][0]["result"]["relayed"] > 0  # chaos did lose events

    payments = aws.table("PaymentsTable")

    def unfinished() -> list[str]:
        items = [payments.get_item(Key={"pk": f"PAYMENT#{s}", "sk": "PAYMENT"}, ConsistentRead=True).get("Item")
                 for s in sessions]
        return [s for s, item in zip(sessions, items, strict=True) if not item or item["status"] != "succeeded"]

    eventually(lambda: not unfinished() or None, timeout=240, interval=1.0)
    assert unfinished() == []

    # fulfilled once: one account and one active enrollment per buyer, from that buyer's one payment
    enrollments = aws.table("EnrollmentsTable")
    for session_id in sessions:
        payment = payments.get_item(Key={"pk": f"PAYMENT#{session_id}", "sk": "PAYMENT"})["Item"]
        enrollment = enrollments.get_item(Key={"pk": f"USER#{payment['user_id']}", "sk": "track#DP"})["Item"]
        assert (enrollment["status"], enrollment["source"]) == ("active", session_id)
    assert len({payments.get_item(Key={"pk": f"PAYMENT#{s}", "sk": "PAYMENT"})["Item"]["user_id"]
                for s in sessions}) == PURCHASES

    # every e-mail exactly once: each buyer gets the welcome and the receipt, nothing twice
    def mails() -> Counter[tuple[str, str]]:
        return Counter((to, str(message.get("subject"))) for message in outbox()
                       for to in message.get("to", []) if to in emails)

    eventually(lambda: len({to for to, _ in mails()}) == PURCHASES and all(
        sum(1 for to, _ in mails() if to == email) >= 2 for email in emails), timeout=120, interval=1.0)
    sent = mails()
    assert [key for key, count in sent.items() if count > 1] == []
    per_buyer = Counter(to for to, _ in sent)
    assert set(per_buyer.values()) == {2}, per_buyer.most_common(3)

    for dlq in ("FulfilmentDLQ", "NotificationsDLQ", "ProvisioningDLQ"):
        attributes = aws.client("sqs").get_queue_attributes(QueueUrl=aws.name(dlq),
                                                            AttributeNames=["ApproximateNumberOfMessages"])
        assert attributes["Attributes"]["ApproximateNumberOfMessages"] == "0", dlq
