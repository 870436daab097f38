"""What a failing ``bench.load`` says about the purchases it waited for in vain: for each one its payment, its
enrollment, its fulfilment claim, the Stripe events about its Checkout Session (each one's webhook deliveries and
its consumer receipts); then the consumer queues and their DLQs, the sandbox's undelivered events, and the
stack log's failure lines. Read from the stack before it stops; nothing is changed but the DLQs' receive counts."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import requests

from local.stack.stack import STRIPE_SECRET_KEY, LocalStack

CONSUMERS = ("fulfilment", "provisioning", "notifications")  # each keeps a receipt <consumer>#<event id>
QUEUES = ("Fulfilment", "Provisioning", "Notifications", "Meetings")
SHOWN = 10  # purchases described one by one; the rest are counted
LOG_MARKERS = ("Task timed out", "Init timed out", "[sqs]", '"level":"ERROR"', "Traceback", "-> 5", "WARNING")


def describe_unfinished(stack: LocalStack, sessions: Iterable[str]) -> str:
    """A report of the unfinished purchases (Checkout Session ids) and of where the stack stands."""
    stuck = sorted(sessions)
    lines = [f"{len(stuck)} purchases not fulfilled:"]
    deliveries = _deliveries(stack)
    for session_id in stuck[:SHOWN]:
        lines += _purchase(stack, session_id, deliveries)
    if len(stuck) > SHOWN:
        lines.append(f"  ... and {len(stuck) - SHOWN} more")
    lines += _queues(stack) + _sandbox_pending(stack) + _log_failures(stack.state_dir / "stack.log")
    return "\n".join(lines)


def _item(stack: LocalStack, table: str, key: dict[str, str]) -> dict[str, Any] | None:
    response = stack.client("dynamodb").get_item(TableName=stack.outputs[table], ConsistentRead=True,
                                                 Key={name: {"S": value} for name, value in key.items()})
    item = response.get("Item")
    return {name: next(iter(value.values())) for name, value in item.items()} if item else None


def _fields(item: dict[str, Any] | None, *names: str) -> str:
    if item is None:
        return "none"
    return " ".join(f"{name}={item.get(name)}" for name in names)


def _purchase(stack: LocalStack, session_id: str, deliveries: list[dict[str, Any]]) -> list[str]:
    payment = _item(stack, "PaymentsTable", {"pk": f"PAYMENT#{session_id}", "sk": "PAYMENT"})
    enrollment = None
    if payment and payment.get("user_id"):
        enrollment = _item(stack, "EnrollmentsTable", {"pk": f"USER#{payment['user_id']}", "sk": "track#DP"})
    claim = _item(stack, "IdempotencyTable", {"pk": f"track-fulfilment#{session_id}"})
    lines = [f"- {session_id}: payment {_fields(payment, 'status', 'user_id')}; "
             f"enrollment {_fields(enrollment, 'status', 'source')}; "
             f"fulfilment claim {_fields(claim, 'status', 'lease_until', 'event_id')}"]
    events: dict[str, list[dict[str, Any]]] = {}
    for delivery in deliveries:
        if session_id in delivery.get("payload", ""):
            events.setdefault(delivery["event_id"], []).append(delivery)
    if not events:
        lines.append("    no webhook delivery mentions this session")
    for event_id, attempts in events.items():
        tries = ", ".join(f"{a['status']}({a['response_status'] or a['error']}, {a['duration_ms']} ms)"
                          for a in attempts)
        receipts = ", ".join(f"{consumer} {_fields(_receipt(stack, consumer, event_id), 'status')}"
                             for consumer in CONSUMERS)
        lines.append(f"    {attempts[0]['event_type']} {event_id}: deliveries {tries}; receipts {receipts}")
    return lines


def _receipt(stack: LocalStack, consumer: str, event_id: str) -> dict[str, Any] | None:
    return _item(stack, "IdempotencyTable", {"pk": f"{consumer}#{event_id}"})


def _deliveries(stack: LocalStack) -> list[dict[str, Any]]:
    """Every endpoint's delivery log (the sandbox keeps the last 2,000 attempts per endpoint)."""
    if not stack.stripe_url:
        return []
    auth = {"Authorization": f"Bearer {STRIPE_SECRET_KEY}"}
    endpoints = requests.get(f"{stack.stripe_url}/v1/webhook_endpoints", headers=auth, timeout=30).json()["data"]
    found: list[dict[str, Any]] = []
    for endpoint in endpoints:
        log = requests.get(f"{stack.stripe_url}/_sandbox/webhook_endpoints/{endpoint['id']}/deliveries", timeout=30)
        found += log.json()["data"]
    return found


def _queues(stack: LocalStack) -> list[str]:
    sqs = stack.client("sqs")
    lines = ["queues (visible / in flight):"]
    for name in QUEUES:
        depths = []
        for queue in (f"{name}Queue", f"{name}DLQ"):
            attributes = sqs.get_queue_attributes(QueueUrl=stack.outputs[queue], AttributeNames=[
                "ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"])["Attributes"]
            depths.append(f"{queue} {attributes['ApproximateNumberOfMessages']}"
                          f" / {attributes['ApproximateNumberOfMessagesNotVisible']}")
        lines.append("  " + "; ".join(depths) + _dead_letters(sqs, stack.outputs[f"{name}DLQ"]))
    return lines


def _dead_letters(sqs: Any, url: str) -> str:
    """The event types and ids of what a DLQ holds (its first ten messages)."""
    messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=0).get("Messages", [])
    if not messages:
        return ""
    events = []
    for message in messages:
        try:
            envelope = json.loads(message["Body"])["detail"]  # the EventBridge event's coursepay envelope
            events.append(f"{envelope['type']} {envelope['id']}")
        except (ValueError, KeyError, TypeError):
            events.append(message["Body"][:80])
    return " - dead letters: " + ", ".join(events)


def _sandbox_pending(stack: LocalStack) -> list[str]:
    if not stack.stripe_url:
        return []
    flushed = requests.post(f"{stack.stripe_url}/_sandbox/webhooks/flush", json={"timeout": 0}, timeout=30)
    return [f"sandbox webhook deliveries queued or in flight: {flushed.json()['pending']}"]


def _log_failures(log: Path) -> list[str]:
    """How often each failure marker appears in the stack log, with its last line."""
    if not log.exists():
        return []
    counts: Counter[str] = Counter()
    last: dict[str, str] = {}
    with log.open(errors="replace") as lines:
        for line in lines:
            for marker in LOG_MARKERS:
                if marker in line:
                    counts[marker] += 1
                    last[marker] = line.strip()[:300]
    found = [f"  {counts[m]} x {m!r}, last: {last[m]}" for m in LOG_MARKERS if counts[m]]
    return [f"stack log {log}:"] + (found or ["  no failure lines"])
