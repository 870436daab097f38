"""Fixtures of the paid-tracks unit tests (``pytest_plugins = ("tests.support.tracks_fixtures",)``): the Stripe
sandbox in-process, the payments function pointed at it with the catalogue seeded, the consumers."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from types import ModuleType
from typing import Any

import pytest
import stripe

from coursepay.settings import load_settings
from local.stripe_sandbox.server import SandboxServer
from tests.conftest import TEST_STRIPE_KEYS


@pytest.fixture(scope="session")
def sandbox() -> Iterator[SandboxServer]:
    server = SandboxServer(host="127.0.0.1", port=0).start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def stripe_sdk(sandbox: SandboxServer) -> stripe.StripeClient:
    return stripe.StripeClient(TEST_STRIPE_KEYS["secret_key"], base_addresses={"api": sandbox.url})


def _point_at_sandbox(monkeypatch: pytest.MonkeyPatch, sandbox: SandboxServer) -> None:
    monkeypatch.setenv("STRIPE_API_BASE", sandbox.url)
    load_settings.cache_clear()


@pytest.fixture
def payments(load_function: Callable[[str, str], ModuleType], aws: Any, sandbox: SandboxServer,
             monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    """The payments function (env from template.yaml, STRIPE_API_BASE -> the sandbox), catalogue seeded."""
    module = load_function("PaymentsFunction", "payments")
    _point_at_sandbox(monkeypatch, sandbox)
    from coursepay.tracks.seed import seed_tracks

    seed_tracks(aws.name("CoursesTable"), aws.name("AuditTable"))
    return module


@pytest.fixture
def consumers(load_function: Callable[[str, str], ModuleType], aws: Any, sandbox: SandboxServer,
              monkeypatch: pytest.MonkeyPatch) -> Callable[[str], ModuleType]:
    """``consumers("fulfilment")``: a consumer function, loaded with its own environment when asked for."""

    def load(name: str) -> ModuleType:
        module = load_function(f"{name.capitalize()}Function", name)
        _point_at_sandbox(monkeypatch, sandbox)
        return module

    return load
