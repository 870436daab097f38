"""Reconciliation of Stripe events: events the webhook never stored are relayed once, stuck ones published again,
the checkpoint only moves forward, ``--since`` reaches further back; and one Checkout Session's events can be
recovered on demand. moto in-process (tables from template.yaml) and a real Stripe sandbox over HTTP."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import requests
import stripe

from coursepay.errors import InvalidRequest, NotFound
from coursepay.events.catalogue import HANDLED_STRIPE_EVENT_TYPES
from coursepay.reconciliation.__main__ import main as reconcile_command
from coursepay.reconciliation.checkpoint import ReconciliationCheckpoint
from coursepay.reconciliation.service import StripeEventReconciler
from coursepay.reconciliation.sessions import CheckoutSessionRecovery
from coursepay.reconciliation.since import parse_since
from coursepay.reconciliation.stripe_events import list_events
from coursepay.settings import ReconciliationSettings, load_settings
from coursepay.stripe_gateway.client import stripe_provider
from coursepay.webhooks.relay import StripeEventRelay
from coursepay.webhooks.repository import StripeEventsRepository
from local.stripe_sandbox.server import SandboxServer
from tests.conftest import TEST_STRIPE_KEYS
from tests.unit.test_webhook import queue_messages

SAMPLE = Path(__file__).resolve().parents[2] / "events" / "reconciliation-scheduled.json"
HOUR = 3600


pytest_plugins = ("tests.support.tracks_fixtures",)  # the session's Stripe sandbox: ``sandbox``


@pytest.fixture
def sdk(sandbox: SandboxServer) -> Iterator[stripe.StripeClient]:
    """The sandbox emptied (these tests count the events Stripe lists), through the official SDK."""
    requests.post(f"{sandbox.url}/_sandbox/reset", timeout=5).raise_for_status()
    yield stripe.StripeClient(TEST_STRIPE_KEYS["secret_key"], base_addresses={"api": sandbox.url})
    requests.post(f"{sandbox.url}/_sandbox/config", json={"time_offset": 0}, timeout=5).raise_for_status()


@pytest.fixture
def reconciliation(load_function: Callable[[str, str], ModuleType], sandbox: SandboxServer,
                   monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    """The scheduled function with the template's environment, its STRIPE_API_BASE pointed at the sandbox."""
    module = load_function("ReconciliationFunction", "reconciliation")
    monkeypatch.setenv("STRIPE_API_BASE", sandbox.url)
    load_settings.cache_clear()
    return module


def scheduled_run(module: ModuleType, lambda_context: Any) -> dict[str, Any]:
    return module.lambda_handler(json.loads(SAMPLE.read_text()), lambda_context)


def canceled_intent(sdk: stripe.StripeClient, sandbox: SandboxServer, *, hours_ago: int = 0) -> stripe.Event:
    """A PaymentIntent canceled ``hours_ago`` (the sandbox's clock shifted): its payment_intent.canceled event."""
    requests.post(f"{sandbox.url}/_sandbox/config", json={"time_offset": -hours_ago * HOUR}, timeout=5)
    intent = sdk.v1.payment_intents.create(params={"amount": 4900, "currency": "usd"})
    sdk.v1.payment_intents.cancel(intent.id)
    requests.post(f"{sandbox.url}/_sandbox/config", json={"time_offset": 0}, timeout=5)
    return next(e for e in sdk.v1.events.list(params={"type": "payment_intent.canceled", "limit": 100}).data
                if e.data.object["id"] == intent.id)


def stored(aws: Any, event_id: str) -> dict[str, Any] | None:
    return aws.table("StripeEventsTable").get_item(Key={"pk": event_id}, ConsistentRead=True).get("Item")


def relay(aws: Any) -> StripeEventRelay:
    return StripeEventRelay.for_resources(aws.name("StripeEventsTable"))


def published_ids(aws: Any) -> list[str]:
    return [message["detail"]["id"] for message in queue_messages(aws, "FulfilmentQueue")]


# ------------------------------------------------------------------------------------------ scheduled runs


def test_events_never_stored_are_relayed_once_and_a_second_run_changes_nothing(reconciliation, lambda_context, aws,
                                                                                sdk, sandbox, stripe_event_stream):
    first, second = canceled_intent(sdk, sandbox), canceled_intent(sdk, sandbox)
    report = scheduled_run(reconciliation, lambda_context)
    # Listed by type at Stripe: the payment_intent.created events (not handled) are not even asked for.
    assert report | {"since": 0} == {"since": 0, "listed": 2, "relayed": 2, "already_stored": 0, "ignored": 0,
                                     "stuck_republished": 0, "checkpoint": second.created, "complete": True}
    stripe_event_stream.publish()  # the table's stream publishes what the run stored
    for event in (first, second):
        item = stored(aws, event.id)
        assert item is not None
        assert item["status"] == "PUBLISHED"
        assert json.loads(item["payload"])["data"]["object"]["id"] == event.data.object["id"]
    assert sorted(published_ids(aws)) == sorted([first.id, second.id])

    again = scheduled_run(reconciliation, lambda_context)
    assert (again["relayed"], again["already_stored"], again["stuck_republished"]) == (0, 2, 0)
    assert stripe_event_stream.publish() == 0
    assert published_ids(aws) == []


def test_an_event_the_webhook_already_relayed_is_not_published_again(reconciliation, lambda_context, aws, sdk,
                                                                     sandbox, stripe_event_stream):
    delivered = canceled_intent(sdk, sandbox)
    assert relay(aws).relay(delivered.to_dict()) == "recorded"  # what the webhook did
    stripe_event_stream.publish()
    missed = canceled_intent(sdk, sandbox)
    report = scheduled_run(reconciliation, lambda_context)
    assert (report["relayed"], report["already_stored"]) == (1, 1)
    stripe_event_stream.publish()
    assert sorted(published_ids(aws)) == sorted([delivered.id, missed.id])  # each once


def test_events_stuck_received_are_published_again_but_recent_ones_are_left_to_their_relay(reconciliation,
                                                                                          lambda_context, aws, sdk):
    events = StripeEventsRepository(aws.name("StripeEventsTable"))
    for event_id in ("evt_stuck", "evt_in_flight"):
        assert events.record_once({"id": event_id, "type": "payment_intent.canceled", "created": 1,
                                   "data": {"object": {"id": "pi_x", "object": "payment_intent"}}}) is None
    ten_minutes_ago = (datetime.now(UTC) - timedelta(minutes=10)).isoformat(timespec="milliseconds")[:-6] + "Z"
    aws.table("StripeEventsTable").update_item(Key={"pk": "evt_stuck"}, UpdateExpression="SET gsi1sk = :t",
                                               ExpressionAttributeValues={":t": ten_minutes_ago})

    report = scheduled_run(reconciliation, lambda_context)
    assert report["stuck_republished"] == 1
    assert published_ids(aws) == ["evt_stuck"]
    republished = stored(aws, "evt_stuck")
    assert republished is not None
    assert republished["status"] == "PUBLISHED"
    assert "gsi1pk" not in republished
    in_flight = stored(aws, "evt_in_flight")
    assert in_flight is not None
    assert in_flight["status"] == "RECEIVED"  # younger than RECONCILIATION_STUCK_AFTER_SECONDS (300)

    assert scheduled_run(reconciliation, lambda_context)["stuck_republished"] == 0


def test_the_next_run_starts_at_the_checkpoint_minus_the_overlap_and_since_reaches_further(
        reconciliation, lambda_context, aws, sdk, sandbox, monkeypatch, capsys):
    old = canceled_intent(sdk, sandbox, hours_ago=30)  # before a first run's 24 h look-back
    recent = canceled_intent(sdk, sandbox)
    first = scheduled_run(reconciliation, lambda_context)
    assert (first["relayed"], first["checkpoint"]) == (1, recent.created)
    assert stored(aws, old.id) is None

    late = canceled_intent(sdk, sandbox, hours_ago=1)  # created before the checkpoint's window: not seen by runs
    monkeypatch.setenv("RECONCILIATION_OVERLAP_SECONDS", "60")
    load_settings.cache_clear()
    reconciliation.reconciler.cache_clear()
    second = scheduled_run(reconciliation, lambda_context)
    assert second["since"] == recent.created - 60
    assert (second["listed"], second["relayed"]) == (1, 0)
    assert stored(aws, late.id) is None

    # The operator command, with the function's settings from the environment, reaches back as far as asked.
    capsys.readouterr()  # the function's own log and metrics lines
    assert reconcile_command(["--since", "2h"]) == 0
    by_duration = json.loads(capsys.readouterr().out)
    assert (by_duration["listed"], by_duration["relayed"], by_duration["already_stored"]) == (2, 1, 1)
    assert stored(aws, late.id) is not None
    iso = datetime.fromtimestamp(old.created - 1, UTC).isoformat().replace("+00:00", "Z")
    assert reconcile_command(["--since", iso]) == 0
    assert json.loads(capsys.readouterr().out)["relayed"] == 1
    assert stored(aws, old.id) is not None
    assert ReconciliationCheckpoint(aws.name("StripeEventsTable")).newest_created() == recent.created  # not moved back


def test_the_checkpoint_never_moves_backwards(aws):
    checkpoint = ReconciliationCheckpoint(aws.name("StripeEventsTable"))
    assert checkpoint.newest_created() is None
    assert checkpoint.advance(2_000)
    assert not checkpoint.advance(1_000)  # a slower run finishing late
    assert not checkpoint.advance(2_000)
    assert checkpoint.newest_created() == 2_000
    assert checkpoint.advance(2_001)
    assert checkpoint.newest_created() == 2_001


def test_a_run_out_of_time_keeps_its_progress_and_the_next_one_finishes(reconciliation, aws, sdk, sandbox):
    events = [canceled_intent(sdk, sandbox) for _ in range(3)]
    reconciler = StripeEventReconciler.from_settings(load_settings(ReconciliationSettings))
    budget = iter([False, True])  # time for one event only
    partial = reconciler.run(out_of_time=lambda: next(budget, True))
    assert (partial.relayed, partial.complete, partial.checkpoint) == (1, False, events[0].created)
    assert stored(aws, events[0].id) is not None
    assert stored(aws, events[2].id) is None
    rest = reconciler.run()
    assert (rest.relayed, rest.already_stored, rest.complete) == (2, 1, True)


def test_the_operator_command_refuses_a_since_it_cannot_read(reconciliation, capsys):
    with pytest.raises(SystemExit) as exit_info:
        reconcile_command(["--since", "yesterday"])
    assert exit_info.value.code == 2
    assert "neither an ISO time nor a duration" in capsys.readouterr().err


def test_the_operator_command_names_missing_settings(monkeypatch, capsys):
    monkeypatch.delenv("STRIPE_EVENTS_TABLE", raising=False)
    load_settings.cache_clear()
    with pytest.raises(SystemExit):
        reconcile_command([])
    assert "stripe_events_table" in capsys.readouterr().err


NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(("text", "expected"), [
    ("2h", NOW - timedelta(hours=2)),
    ("90s", NOW - timedelta(seconds=90)),
    ("1d30m", NOW - timedelta(days=1, minutes=30)),
    ("2026-11-30T10:00:00Z", datetime(2026, 11, 30, 10, tzinfo=UTC)),
    ("2026-11-30T11:00:00+01:00", datetime(2026, 11, 30, 10, tzinfo=UTC)),
    ("2026-11-30T10:00:00", datetime(2026, 11, 30, 10, tzinfo=UTC)),  # no zone: UTC
])
def test_since_reads_durations_and_iso_times(text, expected):
    assert parse_since(text, now=NOW) == int(expected.timestamp())


@pytest.mark.parametrize("text", ["", "h", "2 hours", "2026-13-01", "2026-12-01T00:00:00Z"])
def test_since_refuses_what_it_cannot_read_and_the_future(text):
    with pytest.raises(InvalidRequest) as error:
        parse_since(text, now=NOW)
    assert error.value.field == "since"


def test_listing_asks_for_more_than_twenty_types_in_chunks(reconciliation, sdk, sandbox):
    event = canceled_intent(sdk, sandbox)
    # 20 types that sort before payment_intent.canceled push it into the second request.
    types = {f"aaa.placeholder_{n:02d}" for n in range(20)} | {"payment_intent.canceled"}
    listed = list_events(stripe_provider(load_settings(ReconciliationSettings)), types=types, created_gte=0)
    assert [e["id"] for e in listed] == [event.id]
    assert "payment_intent.canceled" in HANDLED_STRIPE_EVENT_TYPES


def test_listed_events_have_the_json_shape_of_a_delivery(reconciliation, sdk):
    sdk.v1.prices.create(params={"currency": "usd", "unit_amount": 4900, "product_data": {"name": "DP"}})
    (event,) = list_events(stripe_provider(load_settings(ReconciliationSettings)), types={"price.created"},
                           created_gte=0)
    # The SDK reads *_decimal fields as Decimal; stored payloads need Stripe's own JSON (a string).
    assert event["data"]["object"]["unit_amount_decimal"] == "4900"
    assert json.loads(json.dumps(event)) == event


# ------------------------------------------------------------------------------- one checkout session


def checkout_session(sdk: stripe.StripeClient) -> stripe.checkout.Session:
    return sdk.v1.checkout.sessions.create(params={
        "mode": "payment", "success_url": "https://app.example.com/ok", "cancel_url": "https://app.example.com/no",
        "line_items": [{"price_data": {"currency": "usd", "unit_amount": 4900, "product_data": {"name": "DP"}},
                        "quantity": 1}],
        "metadata": {"kind": "track", "track_id": "DP"},
    })


def pay(sandbox: SandboxServer, session_id: str) -> None:
    response = requests.post(f"{sandbox.url}/_sandbox/checkout/sessions/{session_id}/complete", timeout=10, json={
        "email": "nora@example.com", "name": "Nora", "card_number": "4242424242424242", "exp": "12/34", "cvc": "123"})
    assert response.json()["outcome"] == "complete", response.text


@pytest.fixture
def recovery(reconciliation, aws) -> CheckoutSessionRecovery:
    return CheckoutSessionRecovery(stripe_provider(load_settings(ReconciliationSettings)), relay(aws))


def test_a_completed_session_whose_webhook_was_lost_is_recovered_once(recovery, aws, sdk, sandbox,
                                                                      stripe_event_stream):
    session, other = checkout_session(sdk), checkout_session(sdk)
    pay(sandbox, session.id)
    pay(sandbox, other.id)
    recovered = recovery.recover_checkout_session(session.id)
    assert recovered.session_status == "complete"
    assert [(e.type, e.outcome) for e in recovered.events] == [("checkout.session.completed", "recorded")]
    assert recovered.recovered
    stripe_event_stream.publish()
    (message,) = queue_messages(aws, "FulfilmentQueue")
    assert message["detail"]["data"]["data"]["object"]["id"] == session.id  # not the other session's event

    again = recovery.recover_checkout_session(session.id)
    assert [e.outcome for e in again.events] == ["duplicate"]
    assert not again.recovered
    assert stripe_event_stream.publish() == 0
    assert queue_messages(aws, "FulfilmentQueue") == []


def test_an_open_session_has_nothing_to_recover(recovery, aws, sdk):
    recovered = recovery.recover_checkout_session(checkout_session(sdk).id)
    assert (recovered.session_status, recovered.events) == ("open", [])
    assert aws.table("StripeEventsTable").scan()["Items"] == []


def test_an_unknown_session_is_not_found(recovery, sdk):
    with pytest.raises(NotFound):
        recovery.recover_checkout_session("cs_test_does_not_exist")
