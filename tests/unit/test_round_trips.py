"""The round trips of each counted action (bench/round_trips.py, the table ``make bench`` prints), pinned: a change
that adds a call to checkout, the webhook's ack or fulfilment fails here, and so does one that removes a call
without the pin being lowered with it."""

from __future__ import annotations

from collections import Counter

import pytest

from bench.call_counter import CallCounter, RoundTrips
from bench.round_trips import TARGETS, measure, table


@pytest.fixture(scope="module")
def counts() -> dict[str, RoundTrips]:
    return measure()


def test_a_returning_customers_checkout(counts: dict[str, RoundTrips]) -> None:
    trips = counts["checkout"]
    assert trips.stripe == Counter({"POST /v1/checkout/sessions": 1})
    # the live-subscription mark is a key of the batch read (no Query of gsi1); docs/decisions.md D14
    assert trips.aws == Counter({"DynamoDB.BatchGetItem": 1, "DynamoDB.TransactWriteItems": 1})


def test_a_webhook_ack(counts: dict[str, RoundTrips]) -> None:
    trips = counts["webhook ack"]
    assert trips.stripe == Counter()
    # one conditional write: the table's stream publishes it (docs/decisions.md D14)
    assert trips.aws == Counter({"DynamoDB.PutItem": 1})


def test_a_repeated_webhook_delivery(counts: dict[str, RoundTrips]) -> None:
    trips = counts["webhook repeat"]
    assert trips.stripe == Counter()
    assert trips.aws == Counter({"DynamoDB.PutItem": 1})


def test_publishing_it_from_the_tables_stream(counts: dict[str, RoundTrips]) -> None:
    trips = counts["publication"]
    assert trips.stripe == Counter()
    assert trips.aws == Counter({"EventBridge.PutEvents": 1, "DynamoDB.UpdateItem": 1})


def test_fulfilling_one_completed_checkout(counts: dict[str, RoundTrips]) -> None:
    trips = counts["fulfilment"]
    assert trips.stripe == Counter()
    assert trips.aws == Counter({"DynamoDB.BatchGetItem": 1, "DynamoDB.PutItem": 2, "DynamoDB.Query": 1,
                                 "DynamoDB.TransactWriteItems": 2, "DynamoDB.UpdateItem": 3,
                                 "EventBridge.PutEvents": 1})


def test_a_redelivery_of_it(counts: dict[str, RoundTrips]) -> None:
    trips = counts["redelivery"]
    assert trips.stripe == Counter()
    assert trips.aws == Counter({"DynamoDB.PutItem": 1})


def test_the_table_says_which_targets_hold(counts: dict[str, RoundTrips]) -> None:
    lines = table(counts).splitlines()
    assert lines[0].split()[:2] == ["action", "Stripe"]
    assert [line.split("  ")[0] for line in lines[1:]] == list(TARGETS)
    met = {action: TARGETS[action].met_by(trips) for action, trips in counts.items()}
    assert [line.rsplit(" ", 1)[1] for line in lines[1:]] == ["yes" if met[action] else "no" for action in TARGETS]


def test_the_counter_counts_only_inside_an_action(aws) -> None:
    counter = CallCounter()
    with counter.installed(aws.session):
        client = aws.session.client("dynamodb")
        client.list_tables()
        with counter.action() as trips:
            client.list_tables()
            client.describe_table(TableName=aws.name("PaymentsTable"))
        client.list_tables()
    assert trips.aws == Counter({"DynamoDB.ListTables": 1, "DynamoDB.DescribeTable": 1})
    assert (trips.total, trips.stripe_calls, trips.of_service("DynamoDB")) == (2, 0, 2)
