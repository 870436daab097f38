"""Shared ground of the course-marketplace unit tests: the Stripe sandbox in-process (the functions' STRIPE_API_BASE
pointed at it), calls into the courses and checkout functions, and Stripe events fed to the fulfilment consumer."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from types import ModuleType
from typing import Any

import pytest

from coursepay.accounts.models import Profile
from coursepay.accounts.repository import AccountsRepository
from coursepay.events.envelope import Envelope
from coursepay.settings import load_settings
from local.stripe_sandbox.server import SandboxServer
from tests.support.api_events import body_of, claims_for, http_event

TEACHER = "teacher-1"
OTHER_TEACHER = "teacher-2"
STUDENT = "student-1"
OTHER_STUDENT = "student-2"
ADMIN = "admin-1"
ORIGIN = "https://app.example.com"

COURSE_BODY = {"title": "Python for kids", "description": "Loops, turtles and games",
               "outline": ["Variables", "Loops", "Turtle graphics"], "monthly_price": 1500, "one_time_price": 9900,
               "currency": "usd"}


def claims(user_id: str) -> dict[str, str]:
    group = "teachers" if user_id.startswith("teacher") else "admins" if user_id.startswith("admin") else "students"
    return claims_for(user_id, group)


@contextmanager
def running_sandbox() -> Iterator[SandboxServer]:
    server = SandboxServer(host="127.0.0.1", port=0).start()
    try:
        yield server
    finally:
        server.stop()


class Market:
    """The courses, checkout and fulfilment functions of one test, all talking to one sandbox."""

    def __init__(self, load_function: Any, monkeypatch: pytest.MonkeyPatch, sandbox: SandboxServer,
                 lambda_context: Any) -> None:
        self.courses = load_function("CoursesFunction", "courses")
        self.checkout = load_function("CheckoutFunction", "checkout")
        load_function("FulfilmentFunction", "fulfilment")
        monkeypatch.setenv("STRIPE_API_BASE", sandbox.url)
        load_settings.cache_clear()
        self.sandbox = sandbox
        self.context = lambda_context
        for user_id in (STUDENT, OTHER_STUDENT, TEACHER):
            AccountsRepository(_env("ACCOUNTS_TABLE")).save_profile(
                Profile(user_id=user_id, email=f"{user_id}@example.com", name=user_id, created_at="2026-01-01"))

    def call(self, module: ModuleType, method: str, path: str, *, route: str | None = None, user: str | None = None,
             body: Any = None, query: dict[str, str] | None = None,
             headers: dict[str, str] | None = None) -> tuple[int, Any]:
        event = http_event(method, path, route=route, body=body, query=query, headers=headers,
                           claims=claims(user) if user else None)
        response = module.lambda_handler(event, self.context)
        return response["statusCode"], body_of(response)

    def create_course(self, user: str = TEACHER, key: str | None = None, **overrides: Any) -> dict[str, Any]:
        status, body = self.call(self.courses, "POST", "/courses", user=user, body={**COURSE_BODY, **overrides},
                                 headers={"Idempotency-Key": key or uuid.uuid4().hex})
        assert status == 201, body
        return body

    def start_checkout(self, course_id: str, pricing: str, user: str = STUDENT, **overrides: Any) -> tuple[int, Any]:
        body = {"pricing": pricing, "success_url": f"{ORIGIN}/done?session_id={{CHECKOUT_SESSION_ID}}",
                "cancel_url": f"{ORIGIN}/courses/{course_id}", **overrides}
        return self.call(self.checkout, "POST", f"/courses/{course_id}/checkout", route="/courses/{courseId}/checkout",
                         user=user, body=body)

    def pay(self, session_id: str, card: str = "4242424242424242") -> dict[str, Any]:
        """What the student does on the hosted page."""
        return self.sandbox_post(f"/_sandbox/checkout/sessions/{session_id}/complete",
                                 {"email": "student@example.com", "name": "Student", "card_number": card,
                                  "exp_month": 12, "exp_year": 2040, "cvc": "123"})

    def sandbox_post(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        import urllib.request

        request = urllib.request.Request(self.sandbox.url + path, data=json.dumps(body).encode(), method="POST",
                                         headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=10) as response:
            return dict(json.loads(response.read()))

    def stripe(self) -> Any:
        import stripe

        return stripe.StripeClient("sk_test_unit", base_addresses={"api": self.sandbox.url})

    def events(self, *types: str) -> list[dict[str, Any]]:
        with self.sandbox.store.lock:
            events = [json.loads(json.dumps(e)) for e in self.sandbox.store.all("event")]
        return sorted((e for e in events if not types or e["type"] in types), key=lambda e: e["created"])

    def deliver(self, events: list[dict[str, Any]]) -> dict[str, Any]:
        """Stripe events through the fulfilment consumer, as the bus hands them over."""
        from coursepay.consumers.fulfilment import build_consumer

        records = [_sqs_record(Envelope(id=e["id"], source="coursepay.stripe", type=e["type"], data=e))
                   for e in events]
        return build_consumer().process({"Records": records}, self.context)

    def deliver_new(self, seen: set[str]) -> dict[str, Any]:
        fresh = [e for e in self.events() if e["id"] not in seen]
        seen.update(e["id"] for e in fresh)
        return self.deliver(fresh)


def _env(name: str) -> str:
    import os

    return os.environ[name]


def _sqs_record(envelope: Envelope) -> dict[str, Any]:
    body = json.dumps({"version": "0", "id": str(uuid.uuid4()), "detail-type": envelope.type,
                       "source": envelope.source, "account": "123456789012", "time": envelope.occurred_at,
                       "region": "us-east-1", "resources": [], "detail": json.loads(envelope.model_dump_json())})
    now = str(int(time.time() * 1000))
    return {"messageId": str(uuid.uuid4()), "receiptHandle": "rh", "body": body,
            "attributes": {"ApproximateReceiveCount": "1", "SentTimestamp": now, "SenderId": "events",
                           "ApproximateFirstReceiveTimestamp": now},
            "messageAttributes": {}, "md5OfBody": "", "eventSource": "aws:sqs",
            "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:fulfilment", "awsRegion": "us-east-1"}
