"""Round trips per action, counted through the real handlers (``make bench``; pinned by
tests/unit/test_round_trips.py).

The ground is the unit tests': moto in-process with every resource of template.yaml and each function's environment
as the template declares it; Stripe is the project's sandbox over HTTP. A buyer first buys one course end to end
(which also warms every handler: the counts are a warm container's, secrets cached), then the counted actions:

* ``checkout``: the same buyer (now a returning customer, with a Stripe Customer) starts a second course's checkout;
* ``webhook ack``: that session's ``checkout.session.completed``, signed, posted to the webhook function;
* ``webhook repeat``: Stripe delivering it again (its own target: a duplicate is told in one call);
* ``publication``: the table's stream record of it, fed to the publisher function as Lambda's stream event source
  does (``local.stack.stream_poller``; its own GetRecords polling is Lambda's, not counted), off the request path;
* ``fulfilment``: the message the bus put on the fulfilment queue, handled by the fulfilment consumer;
* ``redelivery``: the same message again (SQS delivers at least once).
"""

from __future__ import annotations

import contextlib
import importlib
import io
import json
import os
import sys
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from types import ModuleType
from typing import Any
from unittest import mock

import boto3

from bench.call_counter import CallCounter, RoundTrips

REGION = "us-east-1"
SECRET_KEY = "sk_test_bench"
WEBHOOK_SECRET = "whsec_bench_round_trips"
ORIGIN = "https://app.example.com"
FUNCTIONS = {"CoursesFunction": "courses", "CheckoutFunction": "checkout", "WebhookFunction": "webhook",
             "StripeEventsPublisherFunction": "stripe_events_publisher", "FulfilmentFunction": "fulfilment"}
TEACHER, STUDENT = "teacher-bench", "student-bench"
COURSE = {"description": "Counted, not guessed", "outline": ["Calls"], "monthly_price": 1500,
          "one_time_price": 9900, "currency": "usd"}


@dataclass(frozen=True)
class Target:
    text: str
    stripe: int | None = None  # at most this many Stripe calls
    dynamodb: int | None = None  # at most this many DynamoDB calls
    total: int | None = None  # at most this many calls in all

    def met_by(self, trips: RoundTrips) -> bool:
        return all(limit is None or value <= limit for limit, value in (
            (self.stripe, trips.stripe_calls), (self.dynamodb, trips.of_service("DynamoDB")),
            (self.total, trips.total)))


TARGETS = {
    "checkout": Target("1 Stripe + <= 2 DynamoDB", stripe=1, dynamodb=2),
    "webhook ack": Target("<= 2, no Stripe", stripe=0, total=2),
    "webhook repeat": Target("<= 1, no Stripe", stripe=0, total=1),
    "publication": Target("(after the ack) <= 2", stripe=0, total=2),
    "fulfilment": Target("<= 3", total=3),
    "redelivery": Target("<= 1", total=1),
}


class Stack:
    """The functions of one in-process stack, driven as API Gateway and the SQS event source would."""

    def __init__(self, session: boto3.Session, sandbox_url: str) -> None:
        from local.stack.api_gateway import Router
        from local.stack.provision import provision
        from local.stack.sam import build_model

        self.session = session
        self.sandbox_url = sandbox_url
        self.provisioned = provision(session=session)
        secrets = session.client("secretsmanager")
        secrets.put_secret_value(SecretId=self.provisioned.ref("StripeApiKeySecret"),
                                 SecretString=json.dumps({"secret_key": SECRET_KEY, "publishable_key": "pk_test"}))
        secrets.put_secret_value(SecretId=self.provisioned.ref("StripeWebhookSecret"),
                                 SecretString=json.dumps({"signing_secrets": [WEBHOOK_SECRET]}))
        model = build_model(self.provisioned.template, self.provisioned.resolver)
        for logical_id in FUNCTIONS:
            os.environ.update(model.functions[logical_id].environment)
        os.environ["STRIPE_API_BASE"] = sandbox_url
        self.router = Router([route for api in model.http_apis.values() for route in api.routes])
        self.stream = self._stream_poller(model)
        self.modules = {logical_id: _fresh_module(f"functions.{directory}.app")
                        for logical_id, directory in FUNCTIONS.items()}

    def http(self, method: str, path: str, *, user: str | None = None, groups: tuple[str, ...] = (),
             body: Any = None, raw_body: bytes | None = None, headers: dict[str, str] | None = None) -> Any:
        from local.stack.api_gateway import HttpRequest, build_event

        payload = raw_body if raw_body is not None else json.dumps(body).encode() if body is not None else b""
        request = HttpRequest(method, path, [("content-type", "application/json"), *(headers or {}).items()], payload)
        match = self.router.match(method, path)
        assert match is not None, f"no route {method} {path}"
        claims = {"sub": user, "token_use": "access", "client_id": "bench", "cognito:groups": list(groups)} \
            if user else None
        event = build_event(request, match, api_id="bench", account_id="123456789012", request_id="bench",
                            claims=claims)
        response = self.modules[match.route.function].lambda_handler(event, _Context())
        result = json.loads(response["body"]) if response.get("body") else None
        assert response["statusCode"] < 300, (method, path, response["statusCode"], result)
        return result

    def sandbox(self, path: str, body: dict[str, Any]) -> Any:
        import requests

        response = requests.post(self.sandbox_url + path, json=body, timeout=10)
        response.raise_for_status()
        return response.json()

    def buy(self, course_id: str) -> str:
        """Checkout started and paid on the hosted page: the session's id."""
        session = self.http("POST", f"/courses/{course_id}/checkout", user=STUDENT, groups=("students",), body={
            "pricing": "one_time", "success_url": f"{ORIGIN}/done", "cancel_url": f"{ORIGIN}/courses/{course_id}"})
        self.sandbox(f"/_sandbox/checkout/sessions/{session['session_id']}/complete", {
            "email": "student@example.com", "name": "Student", "card_number": "4242424242424242",
            "exp_month": 12, "exp_year": 2040, "cvc": "123"})
        return str(session["session_id"])

    def completed_event(self, session_id: str) -> dict[str, Any]:
        import stripe

        client = stripe.StripeClient(SECRET_KEY, base_addresses={"api": self.sandbox_url})
        events = client.v1.events.list(params={"type": "checkout.session.completed", "limit": 100})
        [event] = [e.to_dict(for_json=True) for e in events.data if e.data.object["id"] == session_id]
        return dict(event)

    def post_webhook(self, event: dict[str, Any]) -> Any:
        from local.stripe_sandbox.webhook_delivery import sign

        payload = json.dumps(event)
        return self.http("POST", "/webhooks/stripe", raw_body=payload.encode(),
                         headers={"stripe-signature": sign(payload, WEBHOOK_SECRET)})

    def _stream_poller(self, model: Any) -> Any:
        from local.stack.lambda_runtime import Invocation
        from local.stack.stream_poller import StreamPoller

        def invoke(function: str, event: dict[str, Any]) -> Invocation:
            payload = self.modules[function].lambda_handler(event, _Context())
            return Invocation(request_id="bench", ok=True, payload=payload, duration_ms=0.0)

        # a session of its own: the event source's polling is Lambda's, not the function's (not counted)
        polling = boto3.Session(region_name=REGION)
        (source,) = model.stream_sources
        return StreamPoller(source, polling.client("dynamodbstreams"), polling.client("sqs"), invoke,
                            log=lambda line: None, retry_backoff_s=0.0)

    def publish_stream(self) -> None:
        """Every new stored Stripe event through the publisher function."""
        while True:
            self.stream.poll_once()
            if not self.stream.pending:
                return

    def fulfilment_message(self) -> dict[str, Any]:
        """What the bus put on the fulfilment queue, as the SQS event source hands it to the function."""
        from local.stack.sqs_poller import sqs_record

        sqs = self.session.client("sqs")
        url = self.provisioned.ref("FulfilmentQueue")
        arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        # the queue also gets the ledger's money events (the admins' summary) of earlier steps: take the Stripe
        # event's message, drop the rest (the bench counts one action at a time)
        messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, AttributeNames=["All"])["Messages"]
        for message in messages:
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
        [message] = [m for m in messages if json.loads(m["Body"]).get("source") == "coursepay.stripe"]
        return sqs_record(dict(message), arn, REGION)

    def consume(self, record: dict[str, Any]) -> None:
        response = self.modules["FulfilmentFunction"].lambda_handler({"Records": [record]}, _Context())
        assert response == {"batchItemFailures": []}, response

    def deliver(self, session_id: str) -> dict[str, Any]:
        """The session's completion through webhook and fulfilment, uncounted: the queue message it made."""
        self.post_webhook(self.completed_event(session_id))
        self.publish_stream()
        record = self.fulfilment_message()
        self.consume(record)
        return record


def measure() -> dict[str, RoundTrips]:
    """The counted actions of one run (a fresh moto and sandbox; the process environment is restored after)."""
    counter = CallCounter()
    with _isolated_process() as session, _sandbox() as sandbox_url, counter.installed(session):
        stack = Stack(session, sandbox_url)
        from coursepay.accounts.models import Profile
        from coursepay.accounts.repository import AccountsRepository

        AccountsRepository(os.environ["ACCOUNTS_TABLE"]).save_profile(
            Profile(user_id=STUDENT, email="student@example.com", name="Student", created_at="2026-01-01"))
        first, second = (stack.http("POST", "/courses", user=TEACHER, groups=("teachers",),
                                    body={**COURSE, "title": title}, headers={"idempotency-key": title})["course_id"]
                         for title in ("Round trips, part 1", "Round trips, part 2"))
        stack.deliver(stack.buy(first))  # a first purchase, fulfilled: the buyer is now a returning customer
        counts: dict[str, RoundTrips] = {}
        with counter.action() as counts["checkout"]:
            session_id = stack.buy(second)
        event = stack.completed_event(session_id)
        with counter.action() as counts["webhook ack"]:
            stack.post_webhook(event)
        with counter.action() as counts["webhook repeat"]:
            assert stack.post_webhook(event)["outcome"] == "duplicate"
        with counter.action() as counts["publication"]:
            stack.publish_stream()
        record = stack.fulfilment_message()
        with counter.action() as counts["fulfilment"]:
            stack.consume(record)
        with counter.action() as counts["redelivery"]:
            stack.consume(record)
        return counts


class _Context:
    function_name = "bench"
    memory_limit_in_mb = 512
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:bench"
    aws_request_id = "00000000-0000-0000-0000-000000000000"

    @staticmethod
    def get_remaining_time_in_millis() -> int:
        return 30_000


def _fresh_module(name: str) -> ModuleType:
    """A new container's import of a function's module (nothing cached from an earlier stack)."""
    return importlib.reload(sys.modules[name]) if name in sys.modules else importlib.import_module(name)


def _reset_caches() -> None:
    from aws_lambda_powertools.utilities import parameters

    from coursepay import aws_clients
    from coursepay.settings import load_settings

    load_settings.cache_clear()
    for factory in (aws_clients.dynamodb, aws_clients.eventbridge, aws_clients.cognito, aws_clients.ses):
        factory.cache_clear()
    parameters.clear_caches()


@contextmanager
def _isolated_process() -> Iterator[boto3.Session]:
    """moto in-process, fake credentials, and a new default boto3 session (the one the functions' clients come
    from), all undone afterwards."""
    from moto import mock_aws

    fake = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_SESSION_TOKEN": "testing",
            "AWS_DEFAULT_REGION": REGION, "AWS_REGION": REGION, "POWERTOOLS_TRACE_DISABLED": "true",
            "POWERTOOLS_METRICS_NAMESPACE": "coursepay", "POWERTOOLS_SERVICE_NAME": "bench"}
    with mock.patch.dict(os.environ, fake), mock_aws():
        os.environ.pop("AWS_ENDPOINT_URL", None)
        previous = boto3.DEFAULT_SESSION
        boto3.setup_default_session(region_name=REGION)
        _reset_caches()
        try:
            assert boto3.DEFAULT_SESSION is not None
            yield boto3.DEFAULT_SESSION
        finally:
            _reset_caches()
            boto3.DEFAULT_SESSION = previous


@contextmanager
def _sandbox() -> Iterator[str]:
    from local.stripe_sandbox.server import SandboxServer

    server = SandboxServer(host="127.0.0.1", port=0).start()
    try:
        yield server.url
    finally:
        server.stop()


def table(counts: dict[str, RoundTrips]) -> str:
    rows = [("action", "Stripe", "AWS calls by operation", "total", "target", "met")]
    for action, trips in counts.items():
        target = TARGETS[action]
        operations = ", ".join(f"{count} {name.split('.', 1)[1]}" for name, count in sorted(trips.aws.items()))
        rows.append((action, str(trips.stripe_calls), operations or "-", str(trips.total), target.text,
                     "yes" if target.met_by(trips) else "no"))
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return "\n".join("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
                     for row in rows)


def main() -> None:
    # the handlers' own log lines and metrics (stdout) are not the bench's output
    with contextlib.redirect_stdout(io.StringIO()), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        counts = measure()
    print("Round trips per action (warm container; Stripe = HTTP requests to Stripe, AWS = API calls):")
    print(table(counts))


if __name__ == "__main__":
    main()
