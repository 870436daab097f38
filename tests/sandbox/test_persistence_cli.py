"""State file persistence across restarts and the ``python -m local.stripe_sandbox`` entry point."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from pathlib import Path

import requests
import stripe

from local.stripe_sandbox.server import SandboxServer

REPO = Path(__file__).resolve().parents[2]


def test_state_file_survives_restart(tmp_path: Path) -> None:
    state = tmp_path / "stripe-state.json"
    first = SandboxServer(port=0, state_file=state).start()
    try:
        c = stripe.StripeClient("sk_test_p", base_addresses={"api": first.url})
        customer = c.v1.customers.create(params={"email": "keep@example.com"}, options={"idempotency_key": "p-1"})
        product = c.v1.products.create(params={"name": "Kept"})
        price = c.v1.prices.create(params={"product": product.id, "unit_amount": 900, "currency": "usd"})
    finally:
        first.stop()
    assert state.exists()
    second = SandboxServer(port=0, state_file=state).start()
    try:
        c = stripe.StripeClient("sk_test_p", base_addresses={"api": second.url})
        assert c.v1.customers.retrieve(customer.id).email == "keep@example.com"
        assert c.v1.prices.retrieve(price.id, params={"expand": ["product"]}).product.name == "Kept"  # type: ignore[union-attr]
        # the idempotency cache is persisted too
        replay = c.v1.customers.create(params={"email": "keep@example.com"}, options={"idempotency_key": "p-1"})
        assert replay.id == customer.id
        assert len(c.v1.events.list().data) == 3
        requests.post(f"{second.url}/_sandbox/reset", timeout=5)
    finally:
        second.stop()
    third = SandboxServer(port=0, state_file=state).start()
    try:
        c = stripe.StripeClient("sk_test_p", base_addresses={"api": third.url})
        assert c.v1.customers.list().data == []
    finally:
        third.stop()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_cli_starts_quickly_and_serves(tmp_path: Path) -> None:
    port = _free_port()
    started = time.monotonic()
    proc = subprocess.Popen(
        [sys.executable, "-m", "local.stripe_sandbox", "--port", str(port), "--state-file",
         str(tmp_path / "s.json"), "--webhook-url", "http://127.0.0.1:9/hook", "--webhook-secret", "whsec_cli",
         "--retry-delays", "0.1,0.2"],
        cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        assert f"listening on http://127.0.0.1:{port}" in line
        r = requests.get(f"http://127.0.0.1:{port}/_sandbox/health", timeout=5)
        assert r.json()["ok"] is True
        assert time.monotonic() - started < 5
        c = stripe.StripeClient("sk_test_cli", base_addresses={"api": f"http://127.0.0.1:{port}"})
        endpoints = c.v1.webhook_endpoints.list().data
        assert [e.url for e in endpoints] == ["http://127.0.0.1:9/hook"]
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    assert proc.returncode == 0
