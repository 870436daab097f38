"""Unit-test ground: moto in-process with every resource of template.yaml, and each function's
environment exactly as the template declares it."""

from __future__ import annotations

import functools
import importlib
import json
import os
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from types import ModuleType
from typing import Any

import boto3
import botocore.loaders
import botocore.session
import pytest
from moto import mock_aws

from coursepay import aws_clients
from coursepay.settings import load_settings
from local.stack import moto_atomic
from local.stack.provision import ProvisionedStack, provision
from local.stack.sam import build_model

REGION = "us-east-1"
TEST_STRIPE_KEYS = {"secret_key": "sk_test_unit", "publishable_key": "pk_test_unit"}
TEST_WEBHOOK_SECRET = "whsec_unit_test_signing_secret"
TEST_CONNECT_WEBHOOK_SECRET = "whsec_unit_test_connect_signing_secret"


def pytest_configure(config: pytest.Config) -> None:
    # What template.yaml's Globals give every function, set before any test module imports the layer
    # (Powertools reads them when coursepay.observability is first imported).
    os.environ.setdefault("POWERTOOLS_METRICS_NAMESPACE", "coursepay")
    os.environ.setdefault("POWERTOOLS_SERVICE_NAME", "tests")
    os.environ.setdefault("POWERTOOLS_TRACE_DISABLED", "true")


def _reset_process_caches() -> None:
    load_settings.cache_clear()
    for factory in (aws_clients.dynamodb, aws_clients.eventbridge, aws_clients.cognito, aws_clients.ses,
                    aws_clients.sqs):
        factory.cache_clear()
    from aws_lambda_powertools.utilities import parameters

    parameters.clear_caches()


# botocore's loader caches the service models it has parsed; a fresh session per test would parse them again
# (about a tenth of the unit suite's time). One loader serves every test's session: the models never change.
_SERVICE_MODELS = botocore.loaders.create_loader()


def _session() -> boto3.Session:
    core = botocore.session.get_session()
    core.register_component("data_loader", _SERVICE_MODELS)
    return boto3.Session(botocore_session=core, region_name=REGION)


@dataclass
class UnitStack:
    provisioned: ProvisionedStack
    session: boto3.Session

    def name(self, logical_id: str) -> str:
        return self.provisioned.ref(logical_id)

    def table(self, logical_id: str) -> Any:
        return self.session.resource("dynamodb").Table(self.name(logical_id))

    def client(self, service: str) -> Any:
        return self.session.client(service)  # type: ignore[call-overload]

    def function_env(self, logical_id: str) -> dict[str, str]:
        model = build_model(self.provisioned.template, self.provisioned.resolver)
        return dict(model.functions[logical_id].environment)


@pytest.fixture(scope="session", autouse=True)
def _moto_for_tests() -> Iterator[None]:
    """One DynamoDB call at a time (``local.stack.moto_atomic``), and key material made once: moto makes RSA key
    material for every Cognito user pool (re-deriving the primes of one bundled JWK) and
    every KMS key (a fresh 2048-bit key, even for a symmetric one): about half a second of each test's stack.
    The material is immutable and no test depends on its uniqueness, so one per session serves them all."""
    from joserfc import jwk
    from moto.kms import models as kms_models

    patch = pytest.MonkeyPatch()
    import_key = jwk.RSAKey.import_key
    imported: dict[str, Any] = {}

    def import_key_once(value: Any, *args: Any, **kwargs: Any) -> Any:
        if args or kwargs or not isinstance(value, dict):
            return import_key(value, *args, **kwargs)
        cache_key = json.dumps(value, sort_keys=True)
        if cache_key not in imported:
            imported[cache_key] = import_key(value)
        return imported[cache_key]

    patch.setattr(jwk.RSAKey, "import_key", import_key_once)
    patch.setattr(kms_models, "generate_private_key", functools.cache(kms_models.generate_private_key))
    moto_atomic.apply()  # tests run concurrent invocations in threads, as the local stack's moto server does
    yield
    patch.undo()


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[UnitStack]:
    for name, value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                        "AWS_SESSION_TOKEN": "testing", "AWS_DEFAULT_REGION": REGION, "AWS_REGION": REGION,
                        "POWERTOOLS_TRACE_DISABLED": "true", "POWERTOOLS_METRICS_NAMESPACE": "coursepay"}.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    with mock_aws():
        _reset_process_caches()
        session = _session()
        stack = provision(session=session, with_operations=False)  # no unit test reads alarms or log groups
        secrets = session.client("secretsmanager")
        secrets.put_secret_value(SecretId=stack.ref("StripeApiKeySecret"), SecretString=json.dumps(TEST_STRIPE_KEYS))
        # The platform secret in the older one-secret form (still read), the Connect one in the list form.
        secrets.put_secret_value(SecretId=stack.ref("StripeWebhookSecret"),
                                 SecretString=json.dumps({"signing_secret": TEST_WEBHOOK_SECRET}))
        secrets.put_secret_value(SecretId=stack.ref("StripeConnectWebhookSecret"),
                                 SecretString=json.dumps({"signing_secrets": [TEST_CONNECT_WEBHOOK_SECRET]}))
        yield UnitStack(stack, session)
        _reset_process_caches()


@pytest.fixture
def load_function(aws: UnitStack, monkeypatch: pytest.MonkeyPatch) -> Callable[[str, str], ModuleType]:
    """Import ``functions/<directory>/app.py`` afresh (a new container: nothing cached from an earlier test)
    with the environment template.yaml gives ``logical_id``."""

    def load(logical_id: str, directory: str) -> ModuleType:
        for name, value in aws.function_env(logical_id).items():
            monkeypatch.setenv(name, value)
        _reset_process_caches()
        name = f"functions.{directory}.app"
        if name in sys.modules:
            return importlib.reload(sys.modules[name])
        return importlib.import_module(name)

    return load


CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """Headless Debian Chromium driven by Playwright (``make system-deps`` installs it). A missing browser is a
    failure, not a skip: deselect with ``-m "not browser"`` to run without one."""
    executable = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
    if not os.path.exists(executable):
        pytest.fail(f"Chromium not found at {executable}: run `make system-deps` or deselect with -m 'not browser'")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS, headless=True)
        yield instance
        instance.close()


class FakeLambdaContext:
    function_name = "unit-test"
    memory_limit_in_mb = 512
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:unit-test"
    aws_request_id = "00000000-0000-0000-0000-000000000000"

    @staticmethod
    def get_remaining_time_in_millis() -> int:
        return 10_000


@pytest.fixture
def lambda_context() -> FakeLambdaContext:
    return FakeLambdaContext()


@pytest.fixture
def stripe_event_stream(aws: UnitStack, monkeypatch: pytest.MonkeyPatch,
                        lambda_context: FakeLambdaContext) -> Any:
    """StripeEventsTable's stream into the publisher function, run on demand: ``stripe_event_stream.publish()``."""
    from tests.support.stripe_event_stream import StripeEventStream

    return StripeEventStream(aws, monkeypatch, lambda_context)
