"""The figures the dashboard and the alarms show (``coursepay.observability.FIGURES``) are emitted by the code
where their event happens, as CloudWatch EMF lines with exactly their catalogued dimensions: the ledger
(moto payments and audit tables), the webhook function (signed and forged deliveries) and the consumer runner.
Each catalogued figure has a scenario here; a figure without one fails the parametrized test."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest

from coursepay import observability
from coursepay.billing.ledger import PaymentLedger
from coursepay.billing.payments import Payment, PaymentsRepository
from coursepay.clock import iso_time, utc_now
from coursepay.consumers.runner import EventConsumer
from coursepay.observability import FIGURES, NAMESPACE, Figure
from coursepay.storage.audit import AuditTrail
from coursepay.storage.idempotency import IdempotencyStore
from tests.support.api_events import http_event
from tests.unit.test_consumers import bus_message, envelope, sqs_record
from tests.unit.test_webhook import signed, stripe_event


def emitted(out: str) -> list[dict[str, Any]]:
    """The EMF documents in captured stdout: (name, value, dimensions) of each metric they declare."""
    found = []
    for line in out.splitlines():
        try:
            document = json.loads(line)
        except json.JSONDecodeError:
            continue
        if not isinstance(document, dict) or "_aws" not in document:
            continue
        for directive in document["_aws"]["CloudWatchMetrics"]:
            for metric in directive["Metrics"]:
                dimensions = {name: document[name] for names in directive["Dimensions"] for name in names}
                found.append({"namespace": directive["Namespace"], "name": metric["Name"], "unit": metric["Unit"],
                              "value": document[metric["Name"]], "dimensions": dimensions})
    return found


def ledger(aws: Any) -> PaymentLedger:
    return PaymentLedger(PaymentsRepository(aws.name("PaymentsTable")), AuditTrail(aws.name("AuditTable")),
                         publish=lambda envelopes: None)


def paid_payment(aws: Any, payment_id: str = "pi_fig", *, seconds_ago: float = 12) -> PaymentLedger:
    book = ledger(aws)
    book.record(Payment(payment_id=payment_id, kind="course", item_id="c1", amount=4900, currency="eur",
                        created_at=iso_time(utc_now() - timedelta(seconds=seconds_ago))), actor="user:u1")
    book.succeeded(payment_id, "stripe:evt_1", user_id="u1", payment_intent_id=payment_id)
    return book


def succeed(aws: Any, capsys: pytest.CaptureFixture[str]) -> list[dict[str, Any]]:
    paid_payment(aws)
    return emitted(capsys.readouterr().out)


def fail(aws: Any, capsys: pytest.CaptureFixture[str]) -> list[dict[str, Any]]:
    book = ledger(aws)
    book.record(Payment(payment_id="pi_declined", kind="track", item_id="DP", amount=49900, currency="usd"),
                actor="user:u1")
    book.failed("pi_declined", "stripe:evt_2", "card_declined")
    return emitted(capsys.readouterr().out)


def refund(aws: Any, capsys: pytest.CaptureFixture[str]) -> list[dict[str, Any]]:
    book = paid_payment(aws)
    capsys.readouterr()
    book.refunded("pi_fig", "stripe:evt_3", amount_refunded=900)
    return emitted(capsys.readouterr().out)


def webhook_delivery(aws: Any, capsys: pytest.CaptureFixture[str], load_function: Callable[..., Any],
                     lambda_context: Any) -> list[dict[str, Any]]:
    webhook = load_function("WebhookFunction", "webhook")
    payload = json.dumps(stripe_event())
    for headers in (signed(payload), signed(payload), {"Stripe-Signature": "t=1,v1=forged"}):
        webhook.lambda_handler(http_event("POST", "/webhooks/stripe", raw_body=payload.encode(), headers=headers),
                               lambda_context)
    return emitted(capsys.readouterr().out)


def consume(aws: Any, capsys: pytest.CaptureFixture[str], lambda_context: Any) -> list[dict[str, Any]]:
    def broken(env: Any) -> None:
        raise RuntimeError("downstream down")

    store = IdempotencyStore(aws.name("IdempotencyTable"))
    EventConsumer("fulfilment", store, {}).process({"Records": [sqs_record(bus_message(envelope()))]}, lambda_context)
    EventConsumer("notifications", store, {"payment_intent.succeeded": broken}).process(
        {"Records": [sqs_record(bus_message(envelope()))]}, lambda_context)
    return emitted(capsys.readouterr().out)


# figure name -> (scenario, the dimensions and value it must emit the figure with)
SCENARIOS: dict[str, tuple[str, dict[str, str], float | None]] = {
    "PaymentsSucceeded": ("succeed", {"Kind": "course"}, 1),
    "Revenue": ("succeed", {"Currency": "eur"}, 4900),
    "PaymentTime": ("succeed", {}, None),
    "PaymentsFailed": ("fail", {"Kind": "track"}, 1),
    "Refunds": ("refund", {"Kind": "course"}, 1),
    "RefundedAmount": ("refund", {"Currency": "eur"}, 900),
    "WebhookEvents": ("webhook", {"Outcome": "invalid_signature"}, 1),
    "ConsumerSucceeded": ("consume", {"Consumer": "fulfilment"}, 1),
    "ConsumerFailed": ("consume", {"Consumer": "notifications"}, 1),
}


@pytest.fixture
def run_scenario(aws, capsys, load_function, lambda_context):
    capsys.readouterr()
    runners = {"succeed": lambda: succeed(aws, capsys), "fail": lambda: fail(aws, capsys),
               "refund": lambda: refund(aws, capsys),
               "webhook": lambda: webhook_delivery(aws, capsys, load_function, lambda_context),
               "consume": lambda: consume(aws, capsys, lambda_context)}
    return lambda name: runners[name]()


@pytest.mark.parametrize("figure", FIGURES, ids=lambda figure: figure.name)
def test_every_catalogued_figure_is_emitted_with_its_dimensions(figure: Figure, run_scenario):
    assert figure.name in SCENARIOS, f"{figure.name}: add a scenario that makes the code emit it"
    scenario, dimensions, value = SCENARIOS[figure.name]
    assert set(dimensions) == set(figure.dimensions)
    lines = [m for m in run_scenario(scenario) if m["name"] == figure.name and m["dimensions"] == dimensions]
    assert len(lines) == 1, lines
    assert (lines[0]["namespace"], lines[0]["unit"]) == (NAMESPACE, figure.unit.value)
    if value is not None:
        assert lines[0]["value"] == [value]


def test_payment_time_is_the_seconds_from_creation_to_success(aws, capsys):
    capsys.readouterr()
    paid_payment(aws, seconds_ago=42)
    [line] = [m for m in emitted(capsys.readouterr().out) if m["name"] == "PaymentTime"]
    assert 42 <= line["value"][0] < 52


def test_a_repeated_success_or_refund_event_counts_nothing_again(aws, capsys):
    book = paid_payment(aws)
    book.refunded("pi_fig", "stripe:evt_3", amount_refunded=900)
    capsys.readouterr()
    book.succeeded("pi_fig", "stripe:evt_1", user_id="u1", payment_intent_id="pi_fig")
    book.refunded("pi_fig", "stripe:evt_3", amount_refunded=900)
    assert emitted(capsys.readouterr().out) == []
    book.refunded("pi_fig", "stripe:evt_4", amount_refunded=1500)  # a second refund: 600 more
    amounts = [m["value"] for m in emitted(capsys.readouterr().out) if m["name"] == "RefundedAmount"]
    assert amounts == [[600]]


def test_each_webhook_outcome_is_counted_once_per_delivery(aws, capsys, load_function, lambda_context):
    capsys.readouterr()
    outcomes = [m["dimensions"]["Outcome"] for m in webhook_delivery(aws, capsys, load_function, lambda_context)
                if m["name"] == "WebhookEvents"]
    assert outcomes == ["recorded", "duplicate", "invalid_signature"]
    assert set(outcomes) <= set(observability.WEBHOOK_OUTCOMES)


def test_no_business_figure_carries_the_service_dimension_or_is_emitted_when_metrics_are_disabled(
        aws, capsys, monkeypatch):
    capsys.readouterr()
    paid_payment(aws)
    assert all("service" not in m["dimensions"] for m in emitted(capsys.readouterr().out))
    monkeypatch.setenv("POWERTOOLS_METRICS_DISABLED", "true")
    paid_payment(aws, "pi_quiet")
    assert emitted(capsys.readouterr().out) == []


def test_a_figure_refuses_dimensions_it_does_not_declare():
    with pytest.raises(ValueError, match="Kind"):
        observability.record(observability.PAYMENTS_SUCCEEDED, Currency="eur")
