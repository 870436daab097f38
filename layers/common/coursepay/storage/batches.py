"""Several items in one round trip: a consistent BatchGetItem across tables, and conditional puts (and updates)
written together in one TransactWriteItems (all or none). Each is a single call to DynamoDB however many items it
carries, so an action that reads what its decision needs and writes what it decided costs two calls, not one per
item.

IAM: BatchGetItem is its own action (``dynamodb:BatchGetItem``, in the SAM read and CRUD policies); a transaction is
authorised per item by the action it carries (``dynamodb:PutItem`` for a put, ``dynamodb:UpdateItem`` for an
update), so a function that may only put on the audit table still may, inside a transaction.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from coursepay import aws_clients
from coursepay.errors import UpstreamUnavailable
from coursepay.storage.dynamo import DynamoTable, Item, expression_parts, translated_errors

MAX_TRANSACTION_ITEMS = 100  # DynamoDB's limit
MAX_BATCH_KEYS = 100  # BatchGetItem's limit
UNPROCESSED_ATTEMPTS = 3  # DynamoDB may leave keys unprocessed under throttling: asked again, then a 503


@dataclass(frozen=True)
class ConditionalPut:
    """A put that holds only if ``condition`` does (e.g. ``attribute_not_exists(pk)`` for a new item); with no
    condition, it replaces whatever is there."""

    table: DynamoTable
    item: Item
    condition: str | None = None
    values: Mapping[str, Any] | None = None
    names: Mapping[str, str] | None = None

    def apply(self) -> None:
        """This put alone; ConditionFailed when its condition does not hold."""
        self.table.put(self.item, condition=self.condition, values=self.values, names=self.names)

    def _transact_item(self) -> dict[str, Any]:
        return {"Put": {"TableName": self.table.name, "Item": self.item,
                        **expression_parts(self.condition, self.values, self.names)}}


@dataclass(frozen=True)
class TransactUpdate:
    """An update expression (``SET``, ``ADD``, ``DELETE``...) on one item, for :func:`write_together`: for what a put
    cannot say without reading the item first (a set's member added or removed). Creates the item where there is
    none, unless ``condition`` says otherwise."""

    table: DynamoTable
    key: Mapping[str, str]
    expression: str
    condition: str | None = None
    values: Mapping[str, Any] | None = None
    names: Mapping[str, str] | None = None

    def _transact_item(self) -> dict[str, Any]:
        return {"Update": {"TableName": self.table.name, "Key": dict(self.key), "UpdateExpression": self.expression,
                           **expression_parts(self.condition, self.values, self.names)}}


def write_together(puts: Sequence[ConditionalPut | TransactUpdate]) -> None:
    """All of ``puts`` or none, in one TransactWriteItems; ConditionFailed when any condition does not hold."""
    if not 1 <= len(puts) <= MAX_TRANSACTION_ITEMS:
        raise ValueError(f"a transaction holds 1 to {MAX_TRANSACTION_ITEMS} writes, not {len(puts)}")
    with translated_errors():
        aws_clients.dynamodb().meta.client.transact_write_items(
            TransactItems=[put._transact_item() for put in puts])  # type: ignore[misc]


class Slot[T]:
    """Where a batch read puts one key's answer: ``value`` is the parsed item, or None where there is none."""

    def __init__(self, parse: Callable[[Item], T]) -> None:
        self._parse = parse
        self._read = False
        self._value: T | None = None

    def fill(self, item: Item | None) -> None:
        self._value, self._read = (self._parse(item) if item is not None else None), True

    @property
    def value(self) -> T | None:
        if not self._read:
            raise RuntimeError("the batch holding this key has not been read yet")
        return self._value


@dataclass
class BatchRead:
    """Keys of any tables, read consistently in one BatchGetItem: :meth:`want` each, then :meth:`run` once."""

    _wanted: list[tuple[str, dict[str, str], Slot[Any]]] = field(default_factory=list)

    def want[T](self, table: DynamoTable, key: Mapping[str, str], parse: Callable[[Item], T]) -> Slot[T]:
        slot = Slot(parse)
        self._wanted.append((table.name, dict(key), slot))
        return slot

    def run(self) -> None:
        """Read every wanted key (one round trip unless DynamoDB leaves keys unprocessed) and fill its slot."""
        if not 1 <= len(self._wanted) <= MAX_BATCH_KEYS:
            raise ValueError(f"a batch read holds 1 to {MAX_BATCH_KEYS} keys, not {len(self._wanted)}")
        pending: dict[str, dict[str, Any]] = {}
        for table_name, key, _ in self._wanted:
            request = pending.setdefault(table_name, {"Keys": [], "ConsistentRead": True})
            if key not in request["Keys"]:
                request["Keys"].append(key)
        key_names = {table_name: tuple(key) for table_name, key, _ in self._wanted}
        found: dict[tuple[str, tuple[tuple[str, str], ...]], Item] = {}
        for _ in range(UNPROCESSED_ATTEMPTS):
            with translated_errors():
                response = aws_clients.dynamodb().meta.client.batch_get_item(
                    RequestItems=pending)  # type: ignore[arg-type]
            for table_name, items in response.get("Responses", {}).items():
                for item in items:
                    found[table_name, _identity(item, key_names[table_name])] = dict(item)
            unprocessed: Any = response.get("UnprocessedKeys") or {}
            pending = dict(unprocessed)
            if not pending:
                for table_name, key, slot in self._wanted:
                    slot.fill(found.get((table_name, _identity(key, tuple(key)))))
                return
        raise UpstreamUnavailable("DynamoDB left keys of a batch read unprocessed; retry in a moment")


def _identity(item: Mapping[str, Any], key_names: tuple[str, ...]) -> tuple[tuple[str, str], ...]:
    return tuple((name, str(item[name])) for name in key_names)
