"""The local moto server's speed-ups answer exactly what moto answers without them."""

from __future__ import annotations

import time
from typing import Any

import boto3
import jsonpath_ng.ext
import pytest
from moto import mock_aws
from moto.core import DEFAULT_ACCOUNT_ID
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
from moto.sqs.models import SQSBackend, sqs_backends

from local.stack import moto_speedups

HOSTS = [None, "moto_api", "dynamodb", "sqs", "events", "secretsmanager", "cognito-idp",
         "dynamodb.us-east-1.amazonaws.com", "sqs.us-east-1.amazonaws.com", "nothing-like-a-service"]


def test_the_dispatcher_resolves_each_host_as_moto_does_and_only_once(monkeypatch: pytest.MonkeyPatch) -> None:
    plain = DomainDispatcherApplication(create_backend_app)
    memoising = moto_speedups.dispatcher(create_backend_app)
    assert [memoising.get_backend_for_host(host) for host in HOSTS] == [plain.get_backend_for_host(h) for h in HOSTS]

    def listed_again() -> Any:
        raise AssertionError("moto's package directory listed again")

    monkeypatch.setattr("moto.backends.list_of_moto_modules", listed_again)
    assert memoising.get_backend_for_host("sqs") == "sqs"
    with pytest.raises(AssertionError, match="listed again"):
        plain.get_backend_for_host("sqs")  # what every request paid before


@pytest.fixture
def applied(monkeypatch: pytest.MonkeyPatch) -> None:
    """apply() for this test only: the originals come back at teardown."""
    monkeypatch.setattr(jsonpath_ng.ext, "parse", jsonpath_ng.ext.parse)
    monkeypatch.setattr(SQSBackend, "is_message_valid_based_on_retention_period",
                        SQSBackend.is_message_valid_based_on_retention_period)
    moto_speedups.apply()


def test_jsonpath_expressions_are_parsed_once_and_find_the_same(applied: None) -> None:
    event = {"detail": {"id": "evt_1"}, "detail-type": "payment_intent.canceled", "account": "123"}
    first = jsonpath_ng.ext.parse("$.detail")
    assert jsonpath_ng.ext.parse("$.detail") is first
    assert [match.value for match in first.find(event)] == [{"id": "evt_1"}]
    assert [match.value for match in jsonpath_ng.ext.parse("$.detail-type").find(event)] == ["payment_intent.canceled"]


@mock_aws
def test_the_retention_check_agrees_with_motos_own_for_fresh_and_expired_messages() -> None:
    original = SQSBackend.is_message_valid_based_on_retention_period
    sqs = boto3.client("sqs", region_name="us-east-1")
    url = sqs.create_queue(QueueName="retained", Attributes={"MessageRetentionPeriod": "60"})["QueueUrl"]
    sqs.send_message(QueueUrl=url, MessageBody="fresh")
    backend = sqs_backends[DEFAULT_ACCOUNT_ID]["us-east-1"]
    (message,) = backend.get_queue("retained").messages
    assert moto_speedups.retained(backend, "retained", message) is original(backend, "retained", message) is True
    message.sent_timestamp = int((time.time() - 61) * 1000)  # sent 61 s ago: past the 60 s retention
    assert moto_speedups.retained(backend, "retained", message) is original(backend, "retained", message) is False
