"""Integration tests drive the whole local stack over HTTP: one stack per test session, on free ports.

Fixtures (all session-scoped; every test in tests/integration is marked ``integration``):

- ``stack``: the running :class:`local.stack.stack.LocalStack` (``.api_url``, ``.aws_endpoint``,
  ``.stripe_url``, ``.outputs`` logical id -> physical id, ``.webhook_secret``, ``.parameters``).
- ``api``: :class:`Api`, a ``requests.Session`` bound to the API (``api.get("/me", token=...)``).
- ``aws``: :class:`Aws`, boto3 pointed at the stack's moto (``aws.client("sqs")``, ``aws.table("AccountsTable")``,
  ``aws.name("ProvisioningQueue")``). Overrides the unit tests' in-process ``aws`` fixture in this directory.
- ``login``: ``login(email, password=DEMO_PASSWORD) -> {"access_token", "id_token", ...}`` through
  ``POST /auth/login``. Demo users: ``local.stack.seed.DEMO_USERS``.
- ``stripe_client``: the official SDK pointed at the Stripe sandbox with the stack's test key.
- ``outbox``: ``outbox() -> [messages]`` every e-mail sent through SES so far, newest first.
- ``eventually``: ``eventually(check, timeout=15)`` polls ``check`` until it returns something truthy.
- ``browser``: headless Chromium (Playwright), for the hosted checkout pages.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
import requests
import stripe

from local.stack.seed import DEMO_PASSWORD
from local.stack.stack import STRIPE_SECRET_KEY, LocalStack

INTEGRATION_DIR = Path(__file__).parent


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if INTEGRATION_DIR in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.integration)
            # `make test` runs pytest-xdist with --dist loadgroup: every integration test goes to one worker, so
            # they share one local stack (its start is ~30 s, and the flows share its seeded users) while the
            # other workers run the in-process tests beside it
            item.add_marker(pytest.mark.xdist_group("local_stack"))


ALARM_EMAIL = "ops@coursepay.local"
UNTHROTTLED = {f"{kind}Throttle{part}": 10_000 for kind in ("Api", "Auth", "SignupCheckout", "Webhook")
               for part in ("Rate", "Burst")}


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    local = LocalStack(
        api_port=0,  # free ports: never collides with a developer's `make run`
        aws_port=0,
        stripe_port=0,
        seed=True,
        state_dir=tmp_path_factory.mktemp("local-stack"),
        # redrive to the DLQ after 3 receives (~6 s); the flows here sign in and buy far faster than any person, so
        # the abuse limits are raised (their enforcement: tests/unit/test_local_stack_throttling.py); an alarm e-mail
        # so that the conditional subscription is provisioned too (test_stack_resources.py)
        parameter_overrides={"MaxReceiveCount": 3, "AlarmEmail": ALARM_EMAIL, **UNTHROTTLED},
    )
    try:
        local.start()
    except Exception as error:
        log = local.state_dir / "stack.log"
        tail = log.read_text(errors="replace").splitlines()[-40:] if log.exists() else []
        raise RuntimeError("the local stack did not start; end of its log:\n" + "\n".join(tail)) from error
    try:
        yield local
    finally:
        local.stop()


class Api:
    """``requests`` against the stack's HTTP API; ``token=`` adds ``Authorization: Bearer <token>``."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self.session = requests.Session()

    def request(self, method: str, path: str, *, token: str | None = None, **kwargs: Any) -> requests.Response:
        headers = dict(kwargs.pop("headers", None) or {})
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        kwargs.setdefault("timeout", 30)
        return self.session.request(method, self.base_url + path, headers=headers, **kwargs)

    def get(self, path: str, **kwargs: Any) -> requests.Response:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, **kwargs: Any) -> requests.Response:
        return self.request("POST", path, **kwargs)

    def put(self, path: str, **kwargs: Any) -> requests.Response:
        return self.request("PUT", path, **kwargs)

    def patch(self, path: str, **kwargs: Any) -> requests.Response:
        return self.request("PATCH", path, **kwargs)

    def delete(self, path: str, **kwargs: Any) -> requests.Response:
        return self.request("DELETE", path, **kwargs)


class Aws:
    """boto3 against the stack's moto server, with the template's physical names at hand."""

    def __init__(self, stack: LocalStack) -> None:
        self.endpoint = stack.aws_endpoint
        self.session: boto3.Session = stack.session()
        self.outputs = stack.outputs

    def client(self, service: str) -> Any:
        return self.session.client(service, endpoint_url=self.endpoint)  # type: ignore[call-overload]

    def resource(self, service: str) -> Any:
        return self.session.resource(service, endpoint_url=self.endpoint)  # type: ignore[call-overload]

    def name(self, logical_id: str) -> str:
        return self.outputs[logical_id]

    def table(self, logical_id: str) -> Any:
        return self.resource("dynamodb").Table(self.name(logical_id))


@pytest.fixture(scope="session")
def api(stack: LocalStack) -> Api:
    return Api(stack.api_url)


@pytest.fixture(scope="session")
def aws(stack: LocalStack) -> Aws:
    return Aws(stack)


@pytest.fixture(scope="session")
def login(api: Api) -> Callable[..., dict[str, Any]]:
    def sign_in(email: str, password: str = DEMO_PASSWORD) -> dict[str, Any]:
        response = api.post("/auth/login", json={"email": email, "password": password})
        assert response.status_code == 200, response.text
        tokens: dict[str, Any] = response.json()
        assert "access_token" in tokens, tokens  # not a NEW_PASSWORD_REQUIRED challenge
        return tokens

    return sign_in


@pytest.fixture(scope="session")
def stripe_client(stack: LocalStack) -> stripe.StripeClient:
    assert stack.stripe_url, "the stack starts the Stripe sandbox"
    return stripe.StripeClient(STRIPE_SECRET_KEY, base_addresses={"api": stack.stripe_url})


@pytest.fixture(scope="session")
def outbox(api: Api) -> Callable[[], list[dict[str, Any]]]:
    def messages() -> list[dict[str, Any]]:
        response = api.get("/_local/outbox.json")
        response.raise_for_status()
        return list(response.json()["messages"])

    return messages


@pytest.fixture(scope="session")
def eventually() -> Callable[..., Any]:
    def poll(check: Callable[[], Any], timeout: float = 15.0, interval: float = 0.1) -> Any:
        deadline = time.monotonic() + timeout
        while True:
            result = check()
            if result:
                return result
            if time.monotonic() > deadline:
                raise AssertionError(f"condition not met within {timeout} s (last result: {result!r})")
            time.sleep(interval)

    return poll


