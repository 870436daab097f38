"""One round trip for several items: a batch read across tables answers each key in the order asked (None where
there is no item), and puts (and updates) written together are all applied or none."""

from __future__ import annotations

import pytest

from coursepay.errors import ConditionFailed
from coursepay.storage.batches import BatchRead, ConditionalPut, TransactUpdate, write_together
from coursepay.storage.dynamo import DynamoTable

NEW = "attribute_not_exists(pk)"


@pytest.fixture
def tables(aws):
    return DynamoTable(aws.name("PaymentsTable")), DynamoTable(aws.name("EnrollmentsTable"))


def test_a_batch_read_fills_each_slot_from_its_own_table_and_key(tables) -> None:
    payments, enrollments = tables
    payments.put({"pk": "PAYMENT#p1", "sk": "PAYMENT", "amount": 100})
    enrollments.put({"pk": "USER#u1", "sk": "course#c1", "status": "active"})
    batch = BatchRead()
    missing = batch.want(payments, {"pk": "PAYMENT#nope", "sk": "PAYMENT"}, dict)
    payment = batch.want(payments, {"pk": "PAYMENT#p1", "sk": "PAYMENT"}, lambda item: int(item["amount"]))
    enrollment = batch.want(enrollments, {"pk": "USER#u1", "sk": "course#c1"}, lambda item: item["status"])
    again = batch.want(payments, {"pk": "PAYMENT#p1", "sk": "PAYMENT"}, lambda item: item["pk"])
    with pytest.raises(RuntimeError):
        _ = payment.value
    batch.run()
    assert (missing.value, payment.value, enrollment.value, again.value) == (None, 100, "active", "PAYMENT#p1")


def test_an_empty_batch_is_a_mistake_not_a_call(tables) -> None:
    with pytest.raises(ValueError, match="1 to 100"):
        BatchRead().run()


def test_puts_written_together_land_together(tables) -> None:
    payments, enrollments = tables
    write_together([ConditionalPut(payments, {"pk": "PAYMENT#p2", "sk": "PAYMENT"}, NEW),
                    ConditionalPut(enrollments, {"pk": "USER#u2", "sk": "course#c2"}, NEW)])
    assert payments.get({"pk": "PAYMENT#p2", "sk": "PAYMENT"}) is not None
    assert enrollments.get({"pk": "USER#u2", "sk": "course#c2"}) is not None


def test_one_failing_condition_stops_every_put_of_the_transaction(tables) -> None:
    payments, enrollments = tables
    payments.put({"pk": "PAYMENT#p3", "sk": "PAYMENT", "amount": 1})
    with pytest.raises(ConditionFailed):
        write_together([ConditionalPut(enrollments, {"pk": "USER#u3", "sk": "course#c3"}, NEW),
                        ConditionalPut(payments, {"pk": "PAYMENT#p3", "sk": "PAYMENT", "amount": 2}, NEW)])
    assert enrollments.get({"pk": "USER#u3", "sk": "course#c3"}) is None
    assert payments.get({"pk": "PAYMENT#p3", "sk": "PAYMENT"})["amount"] == 1


def test_an_update_lands_with_the_puts_of_its_transaction_or_not_at_all(tables) -> None:
    payments, _ = tables
    key = {"pk": "USER#u6", "sk": "MARK"}
    add = TransactUpdate(payments, key, "ADD #ids :id", values={":id": {"a"}}, names={"#ids": "ids"})
    write_together([ConditionalPut(payments, {"pk": "PAYMENT#p6", "sk": "PAYMENT"}, NEW), add])
    assert payments.get(key)["ids"] == {"a"}  # created by the update: no read before it
    with pytest.raises(ConditionFailed):  # the put's condition fails: the update is not applied either
        write_together([ConditionalPut(payments, {"pk": "PAYMENT#p6", "sk": "PAYMENT"}, NEW),
                        TransactUpdate(payments, key, "ADD #ids :id", values={":id": {"b"}}, names={"#ids": "ids"})])
    assert payments.get(key)["ids"] == {"a"}
    write_together([TransactUpdate(payments, key, "DELETE #ids :id", values={":id": {"a"}}, names={"#ids": "ids"})])
    assert "ids" not in payments.get(key)  # DynamoDB drops a set when its last member goes


def test_a_put_or_existing_returns_the_item_that_stopped_it(tables) -> None:
    payments, _ = tables
    assert payments.put_or_existing({"pk": "PAYMENT#p4", "sk": "PAYMENT", "n": 1}, condition=NEW) is None
    stopped_by = payments.put_or_existing({"pk": "PAYMENT#p4", "sk": "PAYMENT", "n": 2}, condition=NEW)
    assert stopped_by == {"pk": "PAYMENT#p4", "sk": "PAYMENT", "n": 1}
    with pytest.raises(ConditionFailed):
        payments.put_or_existing({"pk": "PAYMENT#p5", "sk": "PAYMENT"}, condition="attribute_exists(pk)")
