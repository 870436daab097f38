"""Load figures of the local stack: signed webhook posts and whole purchases, concurrently, against a fresh stack.

- **webhooks**: ``--webhooks`` (1,000) signed ``payment_intent.canceled`` events posted to ``/webhooks/stripe`` by
  ``--webhook-concurrency`` (16) clients: the ack latency (p50, p99) and the acks per second; then the time until
  every consumer (fulfilment, provisioning, notifications) has a COMPLETED receipt for every event - the count is
  checked, not assumed.
- **purchases**: ``--purchases`` (100) payment-first purchases by ``--purchase-concurrency`` (8) buyers, driven
  as tests/integration/test_chaos_recovery.py drives them (without the chaos): the sign-up checkout, the hosted
  page paid with a test card, then the wait until every payment is ``succeeded`` and its enrollment active.

The route throttles are raised (the bench measures the stack, not the abuse limits), as the integration tests
do. The stack runs with ``--max-workers-per-function`` (default: the stack's own); the table ends with how far
each function scaled out (peak workers; every worker a cold start).

Usage: ``python -m bench.load [--max-workers-per-function N] [--webhooks 1000] [--purchases 100]``
(``make bench`` runs it after the cold-start table). The stack's log stays in ``.bench/load-stack/stack.log``.
"""

from __future__ import annotations

import argparse
import json
import statistics
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import requests
import stripe

from bench.load_diagnosis import CONSUMERS, describe_unfinished
from bench.trees import ROOT
from local.stack.stack import LocalStack
from tests.support.purchases import buy

UNTHROTTLED = {f"{kind}Throttle{part}": 100_000 for kind in ("Api", "Auth", "SignupCheckout", "Webhook")
               for part in ("Rate", "Burst")}
PROCESSING_TIMEOUT_S = 600.0
STATE_DIR = ROOT / ".bench/load-stack"  # the stack's log stays there after a run
BATCH_GET_KEYS = 100  # DynamoDB's BatchGetItem limit


@dataclass(frozen=True)
class WebhookFigures:
    posts: int
    concurrency: int
    p50_ms: float
    p99_ms: float
    acks_per_s: float
    all_processed_s: float  # from the first post until every consumer finished every event
    receipts: int


@dataclass(frozen=True)
class PurchaseFigures:
    purchases: int
    concurrency: int
    paid_per_s: float  # checkout + payment returned
    fulfilled_s: float  # from the first checkout until every payment succeeded and its enrollment is active
    fulfilled: int


def percentile(samples: list[float], fraction: float) -> float:
    """Nearest-rank percentile (p99 of 1,000 samples is the 990th smallest)."""
    ordered = sorted(samples)
    rank = max(1, -(-len(ordered) * fraction // 1))
    return ordered[int(rank) - 1]


def _per_thread_session() -> Callable[[], requests.Session]:
    local = threading.local()

    def session() -> requests.Session:
        if not hasattr(local, "session"):
            local.session = requests.Session()
        return local.session

    return session


def _signed_event(secret: str) -> tuple[str, bytes, str]:
    event_id = f"evt_{uuid.uuid4().hex[:24]}"
    payload = json.dumps({
        "id": event_id, "object": "event", "api_version": stripe.api_version, "created": int(time.time()),
        "livemode": False, "pending_webhooks": 1, "type": "payment_intent.canceled",
        "request": {"id": None, "idempotency_key": None},
        "data": {"object": {"id": f"pi_{uuid.uuid4().hex[:24]}", "object": "payment_intent", "metadata": {}}},
    })
    return event_id, payload.encode(), stripe.WebhookSignature.generate_signature_header(payload, secret)


def _items(client: Any, table: str, keys: list[dict[str, str]]) -> list[dict[str, Any]]:
    """The items of ``table`` at ``keys`` (string key attributes) that exist, by BatchGetItem, consistently."""
    found: list[dict[str, Any]] = []
    for start in range(0, len(keys), BATCH_GET_KEYS):
        chunk = [{name: {"S": value} for name, value in key.items()} for key in keys[start:start + BATCH_GET_KEYS]]
        request: dict[str, Any] = {table: {"Keys": chunk, "ConsistentRead": True}}
        while request:
            response = client.batch_get_item(RequestItems=request)
            found += response["Responses"].get(table, [])
            request = response.get("UnprocessedKeys") or {}
    return found


def _wait_until(check: Callable[[], set[str]], what: str, timeout_s: float,
                describe: Callable[[set[str]], str] | None = None) -> None:
    """Until ``check`` finds nothing missing; past the timeout, fails saying what is (``describe``: in detail)."""
    deadline = time.monotonic() + timeout_s
    while missing := check():
        if time.monotonic() > deadline:
            detail = describe(missing) if describe else f"e.g. {min(missing)}"
            raise SystemExit(f"{len(missing)} {what} not done after {timeout_s:.0f} s\n{detail}")
        time.sleep(0.5)


def webhook_load(stack: LocalStack, posts: int, concurrency: int,
                 timeout_s: float = PROCESSING_TIMEOUT_S) -> WebhookFigures:
    assert stack.webhook_secret, "the stack registers the webhook endpoint with the sandbox"
    events = [_signed_event(stack.webhook_secret) for _ in range(posts)]
    session = _per_thread_session()

    def post(event: tuple[str, bytes, str]) -> float:
        _, body, signature = event
        started = time.perf_counter()
        response = session().post(f"{stack.api_url}/webhooks/stripe", data=body, timeout=60,
                                  headers={"Stripe-Signature": signature, "Content-Type": "application/json"})
        elapsed_ms = (time.perf_counter() - started) * 1000
        if response.status_code != 200 or response.json().get("outcome") != "recorded":
            raise SystemExit(f"webhook post answered {response.status_code}: {response.text}")
        return elapsed_ms

    started = time.perf_counter()
    with ThreadPoolExecutor(concurrency) as pool:
        latencies = list(pool.map(post, events))
    acked_s = time.perf_counter() - started
    receipts = [f"{consumer}#{event_id}" for event_id, _, _ in events for consumer in CONSUMERS]
    client = stack.client("dynamodb")
    table = stack.outputs["IdempotencyTable"]

    def unfinished() -> set[str]:
        items = _items(client, table, [{"pk": key} for key in receipts])
        return set(receipts) - {item["pk"]["S"] for item in items if item["status"]["S"] == "COMPLETED"}

    _wait_until(unfinished, "consumer receipts", timeout_s)
    return WebhookFigures(posts, concurrency, statistics.median(latencies), percentile(latencies, 0.99),
                          posts / acked_s, time.perf_counter() - started, len(receipts))


def purchase_load(stack: LocalStack, purchases: int, concurrency: int,
                  timeout_s: float = PROCESSING_TIMEOUT_S) -> PurchaseFigures:
    run = uuid.uuid4().hex[:6]
    emails = [f"bench-{run}-{n:03d}@example.com" for n in range(purchases)]
    session = _per_thread_session()
    started = time.perf_counter()
    with ThreadPoolExecutor(concurrency) as pool:
        sessions = list(pool.map(lambda email: buy(stack, session(), email), emails))
    paid_s = time.perf_counter() - started
    client = stack.client("dynamodb")
    payments, enrollments = stack.outputs["PaymentsTable"], stack.outputs["EnrollmentsTable"]

    def unfulfilled() -> set[str]:
        paid = [item for item in _items(client, payments, [{"pk": f"PAYMENT#{s}", "sk": "PAYMENT"} for s in sessions])
                if item["status"]["S"] == "succeeded"]
        buyers = {item["user_id"]["S"]: item["pk"]["S"].removeprefix("PAYMENT#") for item in paid}
        enrolled = _items(client, enrollments, [{"pk": f"USER#{user}", "sk": "track#DP"} for user in buyers])
        fulfilled = {item["source"]["S"] for item in enrolled if item["status"]["S"] == "active"
                     and item["source"]["S"] == buyers[item["pk"]["S"].removeprefix("USER#")]}
        return set(sessions) - fulfilled

    _wait_until(unfulfilled, "purchases", timeout_s, lambda stuck: describe_unfinished(stack, stuck))
    return PurchaseFigures(purchases, concurrency, purchases / paid_s, time.perf_counter() - started,
                           purchases - len(unfulfilled()))


def print_tables(webhooks: WebhookFigures, purchases: PurchaseFigures, stack: LocalStack, workers: int) -> None:
    print(f"Local stack under load: at most {workers} workers per function, route throttles raised")
    print("| load | figure |")
    print("|------|--------|")
    print(f"| {webhooks.posts} signed webhooks at {webhooks.concurrency} concurrent: ack p50 | "
          f"{webhooks.p50_ms:.0f} ms |")
    print(f"| ack p99 | {webhooks.p99_ms:.0f} ms |")
    print(f"| acks per second | {webhooks.acks_per_s:.1f}/s |")
    print(f"| all processed by the {len(CONSUMERS)} consumers ({webhooks.receipts} receipts COMPLETED) | "
          f"{webhooks.all_processed_s:.1f} s ({webhooks.posts / webhooks.all_processed_s:.1f} events/s) |")
    print(f"| {purchases.purchases} purchases at {purchases.concurrency} concurrent: checkout + payment | "
          f"{purchases.paid_per_s:.1f} purchases/s |")
    print(f"| fulfilled end to end ({purchases.fulfilled} payments succeeded, enrollments active) | "
          f"{purchases.fulfilled_s:.1f} s ({purchases.purchases / purchases.fulfilled_s:.1f} purchases/s) |")
    assert stack.runtime is not None
    scaled = {name: pool.stats() for name, pool in sorted(stack.runtime.pools.items()) if pool.stats().cold_starts}
    print("| function | peak workers (cold starts) |")
    print("|----------|----------------------------|")
    for name, stats in scaled.items():
        print(f"| {name} | {stats.peak_workers} ({stats.cold_starts}) |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--max-workers-per-function", type=int, default=None, metavar="N")
    parser.add_argument("--webhooks", type=int, default=1000)
    parser.add_argument("--webhook-concurrency", type=int, default=16)
    parser.add_argument("--purchases", type=int, default=100)
    parser.add_argument("--purchase-concurrency", type=int, default=8)
    parser.add_argument("--processing-timeout", type=float, default=PROCESSING_TIMEOUT_S, metavar="SECONDS",
                        help="how long each phase waits for its work to be done before it fails, saying what is not")
    args = parser.parse_args()
    stack = LocalStack(api_port=0, aws_port=0, stripe_port=0, seed=True, state_dir=STATE_DIR,
                       parameter_overrides=UNTHROTTLED, max_workers_per_function=args.max_workers_per_function)
    with stack:
        assert stack.runtime is not None
        workers = next(iter(stack.runtime.pools.values())).max_workers
        webhooks = webhook_load(stack, args.webhooks, args.webhook_concurrency, args.processing_timeout)
        purchases = purchase_load(stack, args.purchases, args.purchase_concurrency, args.processing_timeout)
        print_tables(webhooks, purchases, stack, workers)


if __name__ == "__main__":
    main()
