"""Fixtures: one Stripe sandbox per test session (reset before every test), SDK clients, a webhook receiver."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
import requests
import stripe

from local.stripe_sandbox.server import SandboxServer

API_KEY = "sk_test_sandbox_123"


@pytest.fixture(scope="session")
def sandbox() -> Iterator[SandboxServer]:
    server = SandboxServer(host="127.0.0.1", port=0, retry_delays=[0.05, 0.1, 0.2], delivery_timeout=2.0)
    server.start()
    yield server
    server.stop()


@pytest.fixture(autouse=True)
def _reset(sandbox: SandboxServer) -> None:
    r = requests.post(f"{sandbox.url}/_sandbox/reset", timeout=5)
    assert r.status_code == 200


@pytest.fixture
def client(sandbox: SandboxServer) -> stripe.StripeClient:
    return stripe.StripeClient(API_KEY, base_addresses={"api": sandbox.url})


@pytest.fixture
def module_stripe(sandbox: SandboxServer) -> Iterator[Any]:
    """The SDK's global (module) configuration pointed at the sandbox."""
    saved = (stripe.api_key, stripe.api_base)
    stripe.api_key, stripe.api_base = API_KEY, sandbox.url
    yield stripe
    stripe.api_key, stripe.api_base = saved


class Control:
    """The non-Stripe /_sandbox routes."""

    def __init__(self, url: str) -> None:
        self.url = url

    def post(self, path: str, body: dict[str, Any] | None = None, expect: int | None = 200) -> Any:
        r = requests.post(f"{self.url}/_sandbox{path}", json=body or {}, timeout=30)
        if expect is not None:
            assert r.status_code == expect, r.text
        return r.json()

    def get(self, path: str) -> Any:
        r = requests.get(f"{self.url}/_sandbox{path}", timeout=10)
        assert r.status_code == 200, r.text
        return r.json()

    def flush(self, timeout: float = 10) -> None:
        assert self.post("/webhooks/flush", {"timeout": timeout}) == {"flushed": True, "pending": 0}

    def complete(self, session_id: str, card: str = "4242424242424242", email: str = "ada@example.com",
                 name: str = "Ada Lovelace", expect: int | None = 200, **extra: Any) -> Any:
        return self.post(f"/checkout/sessions/{session_id}/complete",
                         {"email": email, "name": name, "card_number": card, **extra}, expect=expect)


@pytest.fixture
def control(sandbox: SandboxServer) -> Control:
    return Control(sandbox.url)


class Receiver:
    """A tiny webhook receiver on 127.0.0.1; ``statuses`` scripts the response codes (then 200)."""

    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self.statuses: list[int] = []
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"])).decode("utf-8")
                with receiver.lock:
                    status = receiver.statuses.pop(0) if receiver.statuses else 200
                    receiver.requests.append({"headers": dict(self.headers.items()), "body": body,
                                              "status": status})
                self.send_response(status)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/webhook"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def events(self, only_ok: bool = True) -> list[dict[str, Any]]:
        with self.lock:
            return [json.loads(r["body"]) for r in self.requests if not only_ok or r["status"] < 300]

    def types(self) -> list[str]:
        return [e["type"] for e in self.events()]

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    yield r
    r.close()


@pytest.fixture
def endpoint(client: stripe.StripeClient, receiver: Receiver) -> Any:
    return client.v1.webhook_endpoints.create(params={"url": receiver.url, "enabled_events": ["*"]})


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    """A fresh Chromium page (own context) for the hosted-page tests."""
    context = browser.new_context()
    p = context.new_page()
    p.set_default_timeout(10_000)
    yield p
    context.close()


def connected_account(client: stripe.StripeClient, **params: Any) -> Any:
    """A Custom connected account whose requirements the platform filled through the API (charges and payouts
    enabled, bank account 000123456789)."""
    return client.v1.accounts.create(params={
        "type": "custom", "country": "US", "email": "instructor@example.com", "business_type": "individual",
        "capabilities": {"card_payments": {"requested": True}, "transfers": {"requested": True}},
        "business_profile": {"url": "https://instructor.example"},
        "individual": {"first_name": "Ada", "last_name": "Lovelace", "email": "instructor@example.com",
                       "dob": {"day": 10, "month": 12, "year": 1985}, "ssn_last_4": "0000"},
        "external_account": "btok_us_verified", "tos_acceptance": {"date": 1_700_000_000, "ip": "127.0.0.1"},
        **params})


@pytest.fixture
def account(client: stripe.StripeClient) -> Any:
    return connected_account(client)
