"""Every file in events/ (the samples for `sam local invoke`) is a realistic event for one function, and
invoking that function with it does what the sample is for."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from fnmatch import fnmatch
from pathlib import Path
from typing import Any

import pytest
import stripe

from tests.conftest import TEST_WEBHOOK_SECRET

EVENTS = Path(__file__).resolve().parents[2] / "events"


def load(name: str) -> dict[str, Any]:
    return json.loads((EVENTS / name).read_text())


def resign(event: dict[str, Any]) -> dict[str, Any]:
    # A committed sample cannot carry a valid signature for a secret made at test time; sign it now.
    event["headers"]["stripe-signature"] = stripe.WebhookSignature.generate_signature_header(
        event["body"], TEST_WEBHOOK_SECRET, int(time.time()))
    event["headers"].pop("Stripe-Signature", None)
    return event


def http_ok(status: int) -> Callable[[dict[str, Any]], None]:
    def check(response: dict[str, Any]) -> None:
        assert response["statusCode"] == status, response.get("body")
    return check


def assert_complete(report: dict[str, Any]) -> None:
    assert report["complete"] is True, report  # a run with nothing due goes through the whole (empty) index


def no_batch_failures(response: dict[str, Any]) -> None:
    assert response == {"batchItemFailures": []}


def seed_tracks() -> None:
    # The fulfilment sample is a DP track purchase: the catalogue is there, as in every deployment.
    from coursepay.settings import FulfilmentSettings, load_settings
    from coursepay.tracks.seed import seed_tracks as seed

    seed(load_settings(FulfilmentSettings).courses_table)


SAMPLE_BUYER = ("7f1c2b9e-0000-4000-8000-000000000001", "ada@example.com")


def seed_sample_buyer() -> None:
    # The billing receipt sample is about a known buyer (every real flow writes the profile before the event),
    # and the sender is a verified SES identity, as the deployment's README asks.
    from coursepay import aws_clients
    from coursepay.accounts.models import Profile
    from coursepay.accounts.repository import AccountsRepository
    from coursepay.settings import NotificationsSettings, load_settings

    settings = load_settings(NotificationsSettings)
    user_id, email = SAMPLE_BUYER
    AccountsRepository(settings.accounts_table).save_profile(
        Profile(user_id=user_id, email=email, name="Ada", created_at="2026-01-01T00:00:00Z"))
    aws_clients.ses().verify_email_identity(EmailAddress=settings.email_sender)


def verify_sender() -> None:
    # Registration sends the verification e-mail: the sender is a verified SES identity, as the README asks.
    from coursepay import aws_clients
    from coursepay.accounts.settings import AccountsFunctionSettings
    from coursepay.settings import load_settings

    aws_clients.ses().verify_email_identity(EmailAddress=load_settings(AccountsFunctionSettings).email_sender)


def register_and_verify(invoke: Callable[[dict[str, Any]], dict[str, Any]]) -> None:
    # Sign-in needs a verified e-mail: the sample user registers and uses the link of the verification e-mail.
    from tests.support.accounts import link_token, mails_to
    from tests.support.api_events import http_event

    verify_sender()
    registered = json.loads(load("accounts-register.json")["body"])
    invoke(load("accounts-register.json"))
    [mail] = mails_to(registered["email"], "Confirm your e-mail address")
    invoke(http_event("POST", "/auth/verify-email", body={"token": link_token(mail)}))


def receipt_sent(response: dict[str, Any]) -> None:
    from tests.support.tracks import sent_emails

    no_batch_failures(response)
    [mail] = sent_emails()
    assert (mail["to"], mail["subject"]) == ([SAMPLE_BUYER[1]], "Your receipt for Robots with Python")
    assert "Amount paid: $99.00" in mail["body"]


def store_streamed_event(event: dict[str, Any]) -> dict[str, Any]:
    # The stream record is of an event the webhook stored: store it, as the webhook did before the stream fired.
    from coursepay.settings import StripeEventPublicationSettings, load_settings
    from coursepay.webhooks.repository import StripeEventsRepository

    image = event["Records"][0]["dynamodb"]["NewImage"]
    StripeEventsRepository(load_settings(StripeEventPublicationSettings).stripe_events_table).record_once(
        json.loads(image["payload"]["S"]))
    return event


def published_to_the_bus(response: dict[str, Any]) -> None:
    from coursepay import aws_clients
    from coursepay.settings import StripeEventPublicationSettings, load_settings

    no_batch_failures(response)
    table = aws_clients.dynamodb().Table(load_settings(StripeEventPublicationSettings).stripe_events_table)
    assert table.get_item(Key={"pk": "evt_1QsampleEvent0001"})["Item"]["status"] == "PUBLISHED"


# sample file -> (logical id, function directory, prepare(event, invoke), check(response))
SAMPLES: dict[str, tuple[str, str, Callable[..., dict[str, Any]], Callable[[dict[str, Any]], None]]] = {
    "accounts-register.json": ("AccountsFunction", "accounts", lambda event, invoke: (verify_sender(), event)[1],
                               http_ok(201)),
    "accounts-login.json": ("AccountsFunction", "accounts",
                            lambda event, invoke: (register_and_verify(invoke), event)[1], http_ok(200)),
    "bookings-list-gigs.json": ("BookingsFunction", "bookings", lambda event, invoke: event, http_ok(200)),
    "bookings-scheduler-scheduled.json": ("BookingsSchedulerFunction", "bookings_scheduler",
                                          lambda event, invoke: event, assert_complete),
    "webhook-stripe-event.json": ("WebhookFunction", "webhook", lambda event, invoke: resign(event), http_ok(200)),
    "stripe-events-publisher-stream.json": ("StripeEventsPublisherFunction", "stripe_events_publisher",
                                            lambda event, invoke: store_streamed_event(event), published_to_the_bus),
    "fulfilment-sqs-batch.json": ("FulfilmentFunction", "fulfilment", lambda event, invoke: (seed_tracks(), event)[1],
                                  no_batch_failures),
    "provisioning-sqs-batch.json": ("ProvisioningFunction", "provisioning", lambda event, invoke: event,
                                    no_batch_failures),
    "notifications-sqs-batch.json": ("NotificationsFunction", "notifications", lambda event, invoke: event,
                                     no_batch_failures),
    "notifications-billing-receipt.json": ("NotificationsFunction", "notifications",
                                           lambda event, invoke: (seed_sample_buyer(), event)[1], receipt_sent),
}


# Samples whose function needs the Stripe sandbox are invoked by their context's own test module.
COVERED_ELSEWHERE = {"courses-*.json": "tests/unit/test_course_sample_events.py",
                     "checkout-*.json": "tests/unit/test_course_sample_events.py",
                     "payments-*.json": "tests/unit/test_payments_sample_events.py",
                     "reconciliation-*.json": "tests/unit/test_reconciliation.py"}


def test_every_sample_event_is_covered():
    names = [path.name for path in EVENTS.glob("*.json")
             if not any(fnmatch(path.name, pattern) for pattern in COVERED_ELSEWHERE)]
    assert sorted(names) == sorted(SAMPLES)


@pytest.mark.parametrize("sample", sorted(SAMPLES))
def test_sample_event_invokes_its_function(sample, load_function, lambda_context):
    logical_id, directory, prepare, check = SAMPLES[sample]
    module = load_function(logical_id, directory)

    def invoke(event: dict[str, Any]) -> dict[str, Any]:
        return module.lambda_handler(event, lambda_context)

    check(invoke(prepare(load(sample), invoke)))
