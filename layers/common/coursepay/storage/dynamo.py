"""A thin, typed face over one DynamoDB table: conditional writes for invariants, and AWS error
codes turned into domain errors so services never see botocore."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError
from pydantic import BaseModel

from coursepay import aws_clients
from coursepay.errors import ConditionFailed, UpstreamUnavailable

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.service_resource import Table

Item = dict[str, Any]

_RETRYABLE = {"ProvisionedThroughputExceededException", "ThrottlingException", "RequestLimitExceeded",
              "InternalServerError", "ServiceUnavailable"}


@contextmanager
def translated_errors() -> Iterator[None]:
    try:
        yield
    except ClientError as error:
        code = error.response.get("Error", {}).get("Code", "")
        if code == "ConditionalCheckFailedException":
            raise ConditionFailed("the write's condition does not hold") from error
        if code == "TransactionCanceledException":
            reasons = error.response.get("CancellationReasons", [])
            if any(reason.get("Code") == "ConditionalCheckFailed" for reason in reasons):
                raise ConditionFailed("a condition in the transaction does not hold") from error
        if code in _RETRYABLE:
            raise UpstreamUnavailable(f"DynamoDB is unavailable ({code})") from error
        raise


def plain_numbers(item: Mapping[str, Any]) -> Item:
    """An item with DynamoDB's whole-number Decimals turned back into ints (what the models hold)."""
    return {name: (int(value) if isinstance(value, Decimal) and value == int(value) else value)
            for name, value in item.items()}


def item_to_model[M: BaseModel](model: type[M], item: Mapping[str, Any]) -> M:
    """The model an item stores (keys and index attributes left out)."""
    return model.model_validate({name: value for name, value in plain_numbers(item).items()
                                 if name in model.model_fields})


def expression_parts(condition: str | None, values: Mapping[str, Any] | None,
                     names: Mapping[str, str] | None) -> dict[str, Any]:
    """A write's optional condition and expression attributes, as call parameters (DynamoDB refuses empty ones)."""
    parts: dict[str, Any] = {}
    if condition:
        parts["ConditionExpression"] = condition
    if values:
        parts["ExpressionAttributeValues"] = dict(values)
    if names:
        parts["ExpressionAttributeNames"] = dict(names)
    return parts


class DynamoTable:
    """Key design: every table has ``pk``/``sk`` (or ``pk`` only) and overloaded GSIs ``gsi1``/``gsi2``."""

    def __init__(self, name: str) -> None:
        self.name = name
        self._table: Table | None = None

    @property
    def table(self) -> Table:
        if self._table is None:
            self._table = aws_clients.dynamodb().Table(self.name)
        return self._table

    def get(self, key: Mapping[str, str], *, consistent: bool = True) -> Item | None:
        with translated_errors():
            response = self.table.get_item(Key=dict(key), ConsistentRead=consistent)
        return response.get("Item")

    def put_new(self, item: Item) -> None:
        """Create ``item``; ConditionFailed when an item with that key already exists."""
        with translated_errors():
            self.table.put_item(Item=item, ConditionExpression="attribute_not_exists(pk)")

    def put(self, item: Item, *, condition: str | None = None, values: Mapping[str, Any] | None = None,
            names: Mapping[str, str] | None = None) -> None:
        with translated_errors():
            self.table.put_item(Item=item, **expression_parts(condition, values, names))

    def put_or_existing(self, item: Item, *, condition: str, values: Mapping[str, Any] | None = None,
                        names: Mapping[str, str] | None = None) -> Item | None:
        """Put ``item`` if ``condition`` holds: None when written, else the item that stopped it, in the same round
        trip (DynamoDB returns it with the failed condition); ConditionFailed when no item stopped it."""
        kwargs: dict[str, Any] = {"Item": item, "ConditionExpression": condition,
                                  "ReturnValuesOnConditionCheckFailure": "ALL_OLD"}
        if values:
            kwargs["ExpressionAttributeValues"] = dict(values)
        if names:
            kwargs["ExpressionAttributeNames"] = dict(names)
        try:
            self.table.put_item(**kwargs)
        except ClientError as error:
            existing: Any = error.response.get("Item")  # ALL_OLD: the item, in the wire format
            if error.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException" and existing:
                from boto3.dynamodb.types import TypeDeserializer

                deserializer = TypeDeserializer()
                return {name: deserializer.deserialize(value) for name, value in existing.items()}
            with translated_errors():
                raise
        return None

    def update(self, key: Mapping[str, str], *, set_fields: Mapping[str, Any], condition: str | None = None,
               values: Mapping[str, Any] | None = None, names: Mapping[str, str] | None = None,
               remove: tuple[str, ...] = ()) -> Item:
        """SET each of ``set_fields`` (and REMOVE ``remove``) under an optional condition; returns the new item."""
        attr_names = {f"#f{i}": field for i, field in enumerate(set_fields)}
        attr_values = {f":v{i}": value for i, value in enumerate(set_fields.values())}
        expression = "SET " + ", ".join(f"#f{i} = :v{i}" for i in range(len(set_fields)))
        if remove:
            remove_names = {f"#r{i}": field for i, field in enumerate(remove)}
            attr_names.update(remove_names)
            expression += " REMOVE " + ", ".join(remove_names)
        attr_names.update(names or {})
        attr_values.update(values or {})
        kwargs: dict[str, Any] = {
            "Key": dict(key),
            "UpdateExpression": expression,
            "ExpressionAttributeNames": attr_names,
            "ReturnValues": "ALL_NEW",
        }
        if attr_values:
            kwargs["ExpressionAttributeValues"] = attr_values
        if condition:
            kwargs["ConditionExpression"] = condition
        with translated_errors():
            response = self.table.update_item(**kwargs)
        return response.get("Attributes", {})

    def delete(self, key: Mapping[str, str], *, condition: str | None = None,
               values: Mapping[str, Any] | None = None) -> None:
        kwargs: dict[str, Any] = {"Key": dict(key)}
        if condition:
            kwargs["ConditionExpression"] = condition
        if values:
            kwargs["ExpressionAttributeValues"] = dict(values)
        with translated_errors():
            self.table.delete_item(**kwargs)

    def query_page(self, *, partition: tuple[str, str], sort_prefix: tuple[str, str] | None = None,
                   index: str | None = None, limit: int = 50, start_key: Mapping[str, Any] | None = None,
                   newest_first: bool = False,
                   filter_condition: Any = None) -> tuple[list[Item], dict[str, Any] | None]:
        """One page of a partition (optionally narrowed by a sort-key prefix, and by ``filter_condition``: a
        boto3 condition applied after ``limit`` items are read, so a page may be short); returns items and the
        key to continue from (None at the end)."""
        from boto3.dynamodb.conditions import Key

        condition: Any = Key(partition[0]).eq(partition[1])
        if sort_prefix is not None:
            condition = condition & Key(sort_prefix[0]).begins_with(sort_prefix[1])
        kwargs: dict[str, Any] = {"KeyConditionExpression": condition, "Limit": limit,
                                  "ScanIndexForward": not newest_first}
        if index:
            kwargs["IndexName"] = index
        if start_key:
            kwargs["ExclusiveStartKey"] = dict(start_key)
        if filter_condition is not None:
            kwargs["FilterExpression"] = filter_condition
        with translated_errors():
            response = self.table.query(**kwargs)
        return response.get("Items", []), response.get("LastEvaluatedKey")

    def scan_all(self, *, equals: tuple[str, Any]) -> Iterator[Item]:
        """Every item whose attribute ``equals[0]`` is ``equals[1]``, page by page: the whole table is read, so
        this is for one-off tools (a backfill), never for a request."""
        kwargs: dict[str, Any] = {"FilterExpression": "#a = :v", "ExpressionAttributeNames": {"#a": equals[0]},
                                  "ExpressionAttributeValues": {":v": equals[1]}}
        while True:
            with translated_errors():
                response = self.table.scan(**kwargs)
            yield from response.get("Items", [])
            if not response.get("LastEvaluatedKey"):
                return
            kwargs["ExclusiveStartKey"] = response["LastEvaluatedKey"]

    def query_all(self, *, partition: tuple[str, str], sort_prefix: tuple[str, str] | None = None,
                  index: str | None = None) -> list[Item]:
        items: list[Item] = []
        start: dict[str, Any] | None = None
        while True:
            page, start = self.query_page(partition=partition, sort_prefix=sort_prefix, index=index,
                                          limit=100, start_key=start)
            items.extend(page)
            if not start:
                return items
