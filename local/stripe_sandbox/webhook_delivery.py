"""Background delivery of events to webhook endpoints, signed exactly like Stripe.

One worker thread per endpoint delivers that endpoint's queue in event-creation
order (unless chaos ``shuffle`` is on), retrying non-2xx responses and timeouts
after each delay of ``retry_delays`` (seconds) before giving up. Chaos can make
attempts fail as if the endpoint were down (``delivery_failures``). The delivery log
keeps each attempt's payload and ``Stripe-Signature`` header.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import random
import threading
import time
import urllib.error
import urllib.request
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from .delivery_failures import SIMULATED_BODY, DeliveryFailures, retry_delay
from .store import Store, new_id

USER_AGENT = "Stripe/1.0 (+https://stripe.com/docs/webhooks)"
LOG_LIMIT = 2000


def sign(payload: str, secret: str, timestamp: int | None = None) -> str:
    """The ``Stripe-Signature`` header value for a payload."""
    t = int(time.time()) if timestamp is None else timestamp
    mac = hmac.new(secret.encode("utf-8"), f"{t}.{payload}".encode(), hashlib.sha256).hexdigest()
    return f"t={t},v1={mac}"


def endpoint_wants(endpoint: dict[str, Any], event: dict[str, Any]) -> bool:
    if endpoint.get("_deleted") or endpoint.get("status") != "enabled":
        return False
    if endpoint.get("_account"):  # a connected account's own endpoint: only that account's events
        audience_ok = event.get("account") == endpoint["_account"]
    else:  # the platform's: Connect endpoints get connected accounts' events, the others the platform's
        audience_ok = bool(endpoint.get("_connect")) == bool(event.get("account"))
    enabled = endpoint.get("enabled_events") or []
    return audience_ok and ("*" in enabled or event["type"] in enabled)


@dataclass
class _Item:
    event_id: str
    event_type: str
    payload: str
    url: str
    secret: str
    generation: int
    duplicate: bool = False
    enqueued_at: float = field(default_factory=time.time)


class WebhookDelivery:
    def __init__(self, store: Store, retry_delays: list[float] | None = None, timeout: float = 5.0) -> None:
        self.store = store
        self.retry_delays = list(retry_delays if retry_delays is not None else [1.0, 2.0, 4.0])
        self.timeout = timeout
        self.cond = threading.Condition()
        self.queues: dict[str, deque[_Item]] = {}
        self.in_flight: dict[str, int] = {}
        self.workers: dict[str, threading.Thread] = {}
        self.chaos: dict[str, Any] = {"duplicate": 0.0, "shuffle": False, "delay_ms": 0, "seed": None}
        self.failures = DeliveryFailures()
        self.rng = random.Random()
        self.generation = 0
        self.stopping = threading.Event()
        self._opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))

    # ---------------------------------------------------------------- enqueue
    def dispatch(self, event: dict[str, Any]) -> None:
        """Called with the store lock held: queue an event for every subscribed endpoint."""
        endpoints = [e for e in self.store.all_any("webhook_endpoint") if endpoint_wants(e, event)]
        endpoints.reverse()  # oldest endpoint first; irrelevant for correctness
        event["pending_webhooks"] = len(endpoints)
        if not endpoints:
            return
        from .app import strip_internal

        payload = json.dumps(strip_internal(event), indent=2)
        with self.cond:
            for ep in endpoints:
                self.queues.setdefault(ep["id"], deque()).append(
                    _Item(event["id"], event["type"], payload, ep["url"], ep["secret"], self.generation)
                )
                self._ensure_worker(ep["id"])
            self.cond.notify_all()

    def _ensure_worker(self, endpoint_id: str) -> None:
        worker = self.workers.get(endpoint_id)
        if worker is None or not worker.is_alive():
            worker = threading.Thread(target=self._run, args=(endpoint_id,), daemon=True,
                                      name=f"webhook-{endpoint_id}")
            self.workers[endpoint_id] = worker
            self.in_flight.setdefault(endpoint_id, 0)
            worker.start()

    # ----------------------------------------------------------------- worker
    def _next(self, endpoint_id: str) -> _Item | None:
        with self.cond:
            queue = self.queues.setdefault(endpoint_id, deque())
            while not queue and not self.stopping.is_set():
                self.cond.wait(0.5)
            if self.stopping.is_set():
                return None
            if self.chaos.get("shuffle"):
                # let a batch accumulate so that shuffling has something to reorder
                deadline = time.monotonic() + max(0.05, int(self.chaos.get("delay_ms") or 0) / 1000)
                while (left := deadline - time.monotonic()) > 0:
                    self.cond.wait(left)
                if not queue:
                    return None
                idx = self.rng.randrange(len(queue))
                item = queue[idx]
                del queue[idx]
            else:
                item = queue.popleft()
            self.in_flight[endpoint_id] = self.in_flight.get(endpoint_id, 0) + 1
            return item

    def _run(self, endpoint_id: str) -> None:
        while not self.stopping.is_set():
            item = self._next(endpoint_id)
            if item is None:
                continue
            try:
                self._deliver_with_retries(endpoint_id, item)
            finally:
                with self.cond:
                    dup = float(self.chaos.get("duplicate") or 0.0)
                    if (not item.duplicate and dup > 0 and item.generation == self.generation
                            and self.rng.random() < dup):
                        self.queues.setdefault(endpoint_id, deque()).append(
                            _Item(item.event_id, item.event_type, item.payload, item.url, item.secret,
                                  item.generation, duplicate=True))
                    self.in_flight[endpoint_id] -= 1
                    self.cond.notify_all()

    def _deliver_with_retries(self, endpoint_id: str, item: _Item) -> None:
        delay_ms = int(self.chaos.get("delay_ms") or 0)
        if delay_ms and not self.chaos.get("shuffle"):
            self.stopping.wait(delay_ms / 1000)
        attempts = self.failures.attempts(self.retry_delays)
        for attempt in range(1, attempts + 1):
            if self.stopping.is_set() or item.generation != self.generation:
                return
            ok = self._attempt(endpoint_id, item, attempt, final=attempt == attempts)
            if ok or attempt == attempts:
                self._finish_event(item)
                return
            self.stopping.wait(retry_delay(self.retry_delays, attempt))

    def _attempt(self, endpoint_id: str, item: _Item, attempt: int, final: bool) -> bool:
        body = item.payload.encode("utf-8")
        with self.cond:
            simulated = self.failures.failure(self.rng)
        headers = {
            "Content-Type": "application/json; charset=utf-8",
            "User-Agent": USER_AGENT,
            "Cache-Control": "no-cache",
            "Accept": "*/*; q=0.5, application/xml",
            "Stripe-Signature": sign(item.payload, item.secret),
        }
        # the scheme is checked below before anything is opened
        req = urllib.request.Request(item.url, data=body, method="POST", headers=headers)  # noqa: S310
        started = time.monotonic()
        status: int | None = None
        error: str | None = None
        response_body = ""
        try:
            if not item.url.startswith(("http://", "https://")):
                raise ValueError(f"unsupported URL scheme: {item.url}")
            if simulated == "status":
                status, response_body = 500, SIMULATED_BODY
            elif simulated == "timeout":
                self.stopping.wait(self.timeout)
                raise TimeoutError
            else:
                with self._opener.open(req, timeout=self.timeout) as resp:
                    status = resp.status
                    response_body = resp.read(2000).decode("utf-8", "replace")
        except urllib.error.HTTPError as exc:
            status = exc.code
            response_body = exc.read(2000).decode("utf-8", "replace")
        except TimeoutError:
            error = f"Timed out after {self.timeout:g}s"
        except (OSError, ValueError, urllib.error.URLError) as exc:
            error = f"{type(exc).__name__}: {exc}"
        ok = status is not None and 200 <= status < 300
        entry = {
            "id": new_id("whdel_"),
            "object": "sandbox.webhook_delivery",
            "endpoint": endpoint_id,
            "event_id": item.event_id,
            "event_type": item.event_type,
            "attempt": attempt,
            "duplicate": item.duplicate,
            "url": item.url,
            "created": int(time.time()),
            "duration_ms": int((time.monotonic() - started) * 1000),
            "response_status": status,
            "response_body": response_body[:500],
            "error": error,
            "simulated_failure": simulated,
            "status": "succeeded" if ok else ("failed" if final else "retrying"),
            "payload": item.payload,
            "signature": headers["Stripe-Signature"],
        }
        with self.store.lock:
            log = self.store.deliveries.setdefault(endpoint_id, [])
            log.append(entry)
            del log[:-LOG_LIMIT]
        return ok

    def _finish_event(self, item: _Item) -> None:
        if item.duplicate:
            return
        with self.store.lock:
            event = self.store.get_any(item.event_id, "event")
            if event and event.get("pending_webhooks", 0) > 0:
                event["pending_webhooks"] -= 1

    # ---------------------------------------------------------------- control
    def pending(self) -> int:
        with self.cond:
            return sum(len(q) for q in self.queues.values()) + sum(self.in_flight.values())

    def flush(self, timeout: float = 10.0) -> int:
        """Block until every queue is empty and nothing is in flight; returns what is still pending."""
        deadline = time.monotonic() + timeout
        with self.cond:
            while True:
                pending = sum(len(q) for q in self.queues.values()) + sum(self.in_flight.values())
                left = deadline - time.monotonic()
                if pending == 0 or left <= 0:
                    return pending
                self.cond.wait(min(left, 0.2))

    def set_chaos(self, config: dict[str, Any]) -> dict[str, Any]:
        with self.cond:
            self.failures.configure(config, time.time())  # first: a bad failure setting changes nothing
            dup = config.get("duplicate", self.chaos["duplicate"])
            if isinstance(dup, bool):
                dup = 1.0 if dup else 0.0
            dup = float(dup)
            if not 0.0 <= dup <= 1.0:
                raise ValueError("duplicate must be a probability between 0 and 1 or a boolean")
            self.chaos["duplicate"] = dup
            self.chaos["shuffle"] = bool(config.get("shuffle", self.chaos["shuffle"]))
            delay = int(config.get("delay_ms", self.chaos["delay_ms"]) or 0)
            if delay < 0:
                raise ValueError("delay_ms must be >= 0")
            self.chaos["delay_ms"] = delay
            if "seed" in config:
                self.chaos["seed"] = config["seed"]
                self.rng = random.Random(config["seed"])
            return self.chaos_settings()

    def chaos_settings(self) -> dict[str, Any]:
        return {**self.chaos, **self.failures.snapshot(time.time())}

    def reset(self) -> None:
        with self.cond:
            self.generation += 1
            for queue in self.queues.values():
                queue.clear()
            self.chaos = {"duplicate": 0.0, "shuffle": False, "delay_ms": 0, "seed": None}
            self.failures = DeliveryFailures()
            self.rng = random.Random()
            self.cond.notify_all()

    def stop(self) -> None:
        self.stopping.set()
        with self.cond:
            self.cond.notify_all()
