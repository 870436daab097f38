"""Lambda's SQS event source rules, as the local poller applies them."""

from __future__ import annotations

from typing import Any

import pytest

from local.stack.lambda_runtime import Invocation
from local.stack.sqs_poller import sqs_record, succeeded_records

QUEUE_ARN = "arn:aws:sqs:us-east-1:123456789012:q"
RECORDS = [{"messageId": f"m{index}", "receiptHandle": f"h{index}"} for index in range(3)]


def _ok(payload: Any) -> Invocation:
    return Invocation("r", True, payload, 1.0)


def _ids(records: list[dict[str, Any]]) -> list[str]:
    return [record["messageId"] for record in records]


@pytest.mark.parametrize("payload", [None, {}, {"batchItemFailures": []}, {"batchItemFailures": None}])
def test_empty_reports_mean_the_whole_batch_succeeded(payload: Any) -> None:
    assert _ids(succeeded_records(RECORDS, _ok(payload), report_batch_item_failures=True)) == ["m0", "m1", "m2"]


def test_reported_failures_are_kept() -> None:
    payload = {"batchItemFailures": [{"itemIdentifier": "m1"}]}
    assert _ids(succeeded_records(RECORDS, _ok(payload), report_batch_item_failures=True)) == ["m0", "m2"]


@pytest.mark.parametrize(
    "failures",
    [
        [{"itemIdentifier": ""}],
        [{"itemIdentifier": None}],
        [{"itemId": "m1"}],
        [{"itemIdentifier": "not-in-batch"}],
        "m1",
    ],
)
def test_malformed_reports_fail_the_whole_batch(failures: Any) -> None:
    payload = {"batchItemFailures": failures}
    assert succeeded_records(RECORDS, _ok(payload), report_batch_item_failures=True) == []


def test_a_failed_invocation_keeps_everything() -> None:
    failed = Invocation("r", False, {"errorType": "ValueError"}, 1.0)
    assert succeeded_records(RECORDS, failed, report_batch_item_failures=True) == []
    assert succeeded_records(RECORDS, failed, report_batch_item_failures=False) == []


def test_without_report_batch_item_failures_a_success_deletes_all() -> None:
    payload = {"batchItemFailures": [{"itemIdentifier": "m1"}]}  # ignored: the mapping did not opt in
    assert _ids(succeeded_records(RECORDS, _ok(payload), report_batch_item_failures=False)) == ["m0", "m1", "m2"]


def test_record_has_lambdas_shape() -> None:
    message = {
        "MessageId": "id-1",
        "ReceiptHandle": "rh",
        "MD5OfBody": "md5",
        "Body": '{"x": 1}',
        "Attributes": {"ApproximateReceiveCount": "2", "SentTimestamp": "1700000000000"},
        "MessageAttributes": {
            "kind": {"StringValue": "a", "DataType": "String"},
            "blob": {"BinaryValue": b"\x01\x02", "DataType": "Binary"},
        },
    }
    assert sqs_record(message, QUEUE_ARN, "us-east-1") == {
        "messageId": "id-1",
        "receiptHandle": "rh",
        "body": '{"x": 1}',
        "attributes": {"ApproximateReceiveCount": "2", "SentTimestamp": "1700000000000"},
        "messageAttributes": {
            "kind": {"stringValue": "a", "stringListValues": [], "binaryListValues": [], "dataType": "String"},
            "blob": {"binaryValue": "AQI=", "stringListValues": [], "binaryListValues": [], "dataType": "Binary"},
        },
        "md5OfBody": "md5",
        "eventSource": "aws:sqs",
        "eventSourceARN": QUEUE_ARN,
        "awsRegion": "us-east-1",
    }
