"""Concurrent DynamoDB transactions in moto: each call applies whole, as in DynamoDB (local.stack.moto_atomic;
without it moto's TransactWriteItems deep-copies a table another thread is writing and fails)."""

from __future__ import annotations

import threading

from moto.dynamodb.responses import DynamoHandler

from local.stack import moto_atomic


def test_concurrent_transactions_on_one_table_all_apply(aws):
    client = aws.client("dynamodb")
    table = aws.name("PaymentsTable")
    errors: list[Exception] = []

    def write(worker: int) -> None:
        try:
            for n in range(15):
                client.transact_write_items(TransactItems=[
                    {"Put": {"TableName": table, "Item": {"pk": {"S": f"T#{worker}#{n}"}, "sk": {"S": side}},
                             "ConditionExpression": "attribute_not_exists(pk)"}} for side in ("A", "B")])
        except Exception as error:  # collected, asserted below
            errors.append(error)

    threads = [threading.Thread(target=write, args=(worker,)) for worker in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    items = client.scan(TableName=table, Select="COUNT")["Count"]
    assert items == 6 * 15 * 2


def test_applying_twice_wraps_once():
    moto_atomic.apply()
    wrapped = DynamoHandler.call_action
    moto_atomic.apply()
    assert DynamoHandler.call_action is wrapped
    assert getattr(wrapped, "_one_at_a_time", False)
