"""Tracing a purchase: the purchase's id (derived from its Stripe idempotency key, linked to the checkout request's
id by one log line) follows it through the Stripe objects' metadata, the webhook's relay, the bus envelopes, the
consumers' log lines, the payment record and the e-mail's X-Correlation-ID header (moto and the Stripe sandbox
in-process, the real relay, queues and consumers)."""

from __future__ import annotations

import io
import json
from collections.abc import Callable, Iterator

import pytest

from coursepay.correlation import of_purchase_attempt, of_stripe_event, well_formed
from coursepay.events.envelope import Envelope
from coursepay.observability import logger
from coursepay.webhooks.relay import StripeEventRelay
from tests.support.api_events import http_event
from tests.support.tracks import call, complete_checkout, consume, drain, new_student, sent_emails

pytest_plugins = ("tests.support.tracks_fixtures", "tests.support.tool_services")

URLS = {"success_url": "https://app.example.com/welcome", "cancel_url": "https://app.example.com/tracks"}
TRACE = "trace-purchase-0001"


@pytest.fixture
def log_lines() -> Iterator[Callable[[], list[dict]]]:
    """The Powertools logger's JSON lines so far (its handler's stream swapped for a buffer during the test)."""
    handler = logger.registered_handler
    buffer = io.StringIO()
    previous = handler.setStream(buffer)
    try:
        yield lambda: [json.loads(line) for line in buffer.getvalue().splitlines() if line.startswith("{")]
    finally:
        handler.setStream(previous)


def test_every_response_names_its_correlation_id_the_callers_own_when_well_formed(payments, lambda_context):
    event = http_event("GET", "/tracks")
    response = payments.lambda_handler(event, lambda_context)
    assert response["headers"]["x-correlation-id"] == event["requestContext"]["requestId"]

    for usable in (TRACE, "JTHoQiZgIAMEJnA=", "67FR93D+4ioYlA=="):  # API Gateway's own ids look like the last two
        event = http_event("GET", "/tracks", headers={"X-Correlation-ID": usable})
        assert payments.lambda_handler(event, lambda_context)["headers"]["x-correlation-id"] == usable

    # an id that could break a log line or a header is not taken: the request's own id is used
    for unusable in ("short", "bad id with spaces", "x" * 200, "évent-00000001", "line\nbreak-000"):
        event = http_event("GET", "/tracks", headers={"x-correlation-id": unusable})
        answered = payments.lambda_handler(event, lambda_context)["headers"]["x-correlation-id"]
        assert answered == event["requestContext"]["requestId"], unusable

    # error responses (the shared error handlers) carry it too
    event = http_event("GET", "/tracks/NOPE", route="/tracks/{trackId}", headers={"x-correlation-id": TRACE})
    response = payments.lambda_handler(event, lambda_context)
    assert (response["statusCode"], response["headers"]["x-correlation-id"]) == (404, TRACE)


def test_a_stripe_event_is_traced_by_its_checkouts_id_else_by_its_own():
    traced = {"id": "evt_1", "data": {"object": {"metadata": {"correlation_id": TRACE}}}}
    assert of_stripe_event(traced) == TRACE
    assert of_stripe_event({"id": "evt_2", "data": {"object": {"metadata": {}}}}) == "evt_2"
    assert of_stripe_event({"id": "evt_3", "data": {"object": {"metadata": {"correlation_id": "a b"}}}}) == "evt_3"
    assert of_stripe_event({"id": "evt_4", "data": {"object": {}}}) == "evt_4"
    gateway_id = {"id": "evt_5", "data": {"object": {"metadata": {"correlation_id": "67FR93D+4ioYlA=="}}}}
    assert of_stripe_event(gateway_id) == "67FR93D+4ioYlA=="


def test_a_purchase_attempts_id_is_its_idempotency_keys_the_same_in_every_request():
    key = "checkout-student-1-track-DP-one_time-g1"
    purchase_id = of_purchase_attempt(key)
    assert purchase_id == of_purchase_attempt(key)  # a double click, a retry, another container
    assert purchase_id.startswith("pur-")
    assert well_formed(purchase_id)  # else the relay would ignore it in the Stripe events' metadata
    assert of_stripe_event({"id": "evt_1", "data": {"object": {"metadata": {"correlation_id": purchase_id}}}}) == (
        purchase_id)
    assert of_purchase_attempt("checkout-student-1-track-DP-one_time-g2") != purchase_id  # the next attempt
    assert of_purchase_attempt("checkout-student-2-track-DP-one_time-g1") != purchase_id  # another buyer


def test_the_purchases_id_reaches_the_envelopes_the_consumers_logs_the_payment_and_the_email(
        payments, consumers, aws, lambda_context, stripe_sdk, sandbox, tool_secrets, log_lines,
        stripe_event_stream):
    aws.client("ses").verify_email_identity(EmailAddress="no-reply@example.com")
    student = new_student(aws)
    status, session = call(payments, lambda_context, "POST", "/tracks/DP/checkout", route="/tracks/{trackId}/checkout",
                           who=student, body=URLS, headers={"x-correlation-id": TRACE})
    assert status == 201, session
    purchase = of_purchase_attempt(f"checkout-{student.user_id}-track-DP-one_time-g1")
    stripe_session = stripe_sdk.v1.checkout.sessions.retrieve(session["session_id"])
    assert stripe_session.metadata["correlation_id"] == purchase
    payment = aws.table("PaymentsTable").get_item(Key={"pk": f"PAYMENT#{session['session_id']}", "sk": "PAYMENT"})
    assert payment["Item"]["correlation_id"] == purchase
    # the request's id (its x-correlation-id) is linked to the purchase's by one line of the request
    assert [line["purchase_correlation_id"] for line in log_lines()
            if line["message"] == "purchase traced" and line.get("correlation_id") == TRACE] == [purchase]

    complete_checkout(sandbox.url, session["session_id"], student.email, "Sam")
    # the webhook's relay, in a request of its own (bound to another id), stores the session's events; the
    # table's stream publishes them
    relay = StripeEventRelay.for_resources(aws.name("StripeEventsTable"))
    for event in stripe_sdk.v1.events.list(params={"limit": 100}).auto_paging_iter():
        if event.to_dict()["data"]["object"].get("id") == session["session_id"]:
            relay.relay(event.to_dict())
    stripe_event_stream.publish()

    fulfilment_records = drain(aws, "FulfilmentQueue")
    stripe_envelopes = [Envelope.from_sqs_body(r["body"]) for r in fulfilment_records]
    assert "checkout.session.completed" in {e.type for e in stripe_envelopes}
    assert {e.correlation_id for e in stripe_envelopes} == {purchase}
    drain(aws, "ProvisioningQueue")
    assert consumers("fulfilment").lambda_handler({"Records": fulfilment_records}, lambda_context) == {
        "batchItemFailures": []}

    notification_records = drain(aws, "NotificationsQueue")
    domain_envelopes = [Envelope.from_sqs_body(r["body"]) for r in notification_records]
    assert {"payment.succeeded", "track.enrollment.created"} <= {e.type for e in domain_envelopes}
    assert {e.correlation_id for e in domain_envelopes} == {purchase}
    assert consumers("notifications").lambda_handler({"Records": notification_records}, lambda_context) == {
        "batchItemFailures": []}

    mails = [m for m in sent_emails() if m["to"] == [student.email]]
    assert mails
    assert {m["correlation_id"] for m in mails} == {purchase}

    # every line the consumers logged while handling the purchase's records is traced by the purchase's id
    consumed = [line for line in log_lines() if line["message"] == "event consumed"]
    assert {line["consumer"] for line in consumed} == {"fulfilment", "notifications"}
    assert {line.get("correlation_id") for line in consumed} == {purchase}
    assert {line.get("correlation_id") for line in log_lines() if line["message"] == "e-mail sent"} == {purchase}


def test_consumer_log_lines_carry_the_records_correlation_id_and_nothing_leaks_to_the_next(
        consumers, aws, lambda_context, log_lines):
    first = Envelope(source="coursepay.stripe", type="customer.created", correlation_id=TRACE,
                     data={"id": "evt_x", "type": "customer.created", "data": {"object": {"id": "cus_1"}}})
    second = Envelope(source="coursepay.stripe", type="customer.created",
                      data={"id": "evt_y", "type": "customer.created", "data": {"object": {"id": "cus_2"}}})
    assert second.correlation_id is None  # built outside any request or record
    consume(consumers("fulfilment"), lambda_context, first, second)
    by_event = {line["event_id"]: line.get("correlation_id") for line in log_lines()
                if line["message"] == "event consumed"}
    # the second has no correlation id of its own: its log lines are traced by its event id, not the first's
    assert by_event == {first.id: TRACE, second.id: second.id}
