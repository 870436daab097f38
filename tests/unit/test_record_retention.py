"""Payment and audit records expire 7 years after they are written (``expires_at``, the attribute the tables'
TTL reads): written through the ledger to moto's tables from template.yaml."""

from __future__ import annotations

import time
from datetime import UTC, datetime

from coursepay.billing.ledger import PaymentLedger
from coursepay.billing.payments import Payment, PaymentsRepository
from coursepay.storage.audit import AuditTrail
from coursepay.storage.retention import record_expiry

SEVEN_YEARS = 7 * 365.25 * 24 * 3600


def test_a_written_payment_its_intent_link_and_its_audit_entries_expire_in_seven_years(aws):
    ledger = PaymentLedger(PaymentsRepository(aws.name("PaymentsTable")), AuditTrail(aws.name("AuditTable")),
                           publish=lambda envelopes: None)
    before = time.time()
    ledger.record(Payment(payment_id="pi_kept", kind="course", item_id="c1", amount=4900, currency="eur",
                          stripe_payment_intent_id="pi_kept"), actor="user:u1")
    ledger.succeeded("pi_kept", "stripe:evt_1", user_id="u1", payment_intent_id="pi_kept")
    payments = aws.table("PaymentsTable")
    written = [payments.get_item(Key={"pk": "PAYMENT#pi_kept", "sk": "PAYMENT"})["Item"],
               payments.get_item(Key={"pk": "PI#pi_kept", "sk": "PAYMENT_REF"})["Item"]]
    audit = aws.table("AuditTable").query(KeyConditionExpression="pk = :e",
                                          ExpressionAttributeValues={":e": "payment#pi_kept"})["Items"]
    assert [entry["action"] for entry in audit] == ["payment.created", "payment.succeeded"]
    for item in written + audit:
        assert abs(int(item["expires_at"]) - (before + SEVEN_YEARS)) < 2 * 24 * 3600, item


def test_the_tables_expire_items_by_that_attribute(aws):
    dynamodb = aws.client("dynamodb")
    for logical_id in ("PaymentsTable", "AuditTable"):
        ttl = dynamodb.describe_time_to_live(TableName=aws.name(logical_id))["TimeToLiveDescription"]
        assert (ttl["TimeToLiveStatus"], ttl["AttributeName"]) == ("ENABLED", "expires_at"), logical_id


def test_seven_calendar_years_and_a_leap_day_becomes_the_28th():
    assert record_expiry(datetime(2026, 3, 1, 12, tzinfo=UTC)) == int(datetime(2033, 3, 1, 12, tzinfo=UTC).timestamp())
    assert record_expiry(datetime(2028, 2, 29, tzinfo=UTC)) == int(datetime(2035, 2, 28, tzinfo=UTC).timestamp())
