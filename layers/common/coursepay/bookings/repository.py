"""Gigs in the bookings table (docs/data-model.md, BookingsTable): ``pk=GIG#<id>, sk=GIG``.

- gsi1 ``GIGS#active`` / ``<created_at>#<id>``: the public list, newest first (sparse: active gigs only);
- gsi2 ``TEACHER#<teacher_id>`` / ``<status>#<created_at>#<id>``: a teacher's gigs, any status (prefix
  ``active#``: their public profile and the list's ``teacher_id`` filter);
- gsi3 ``SUBJECT#<subject>`` / ``<created_at>#<id>``: the list's ``subject`` filter (sparse: active only).
Currency and rate range narrow the chosen query with a filter expression (a page may hold fewer than
``limit`` gigs; ``next_cursor`` goes on)."""

from __future__ import annotations

import base64
import json
from typing import Any

from coursepay.bookings.models import Gig, GigPage
from coursepay.bookings.requests import GigQuery
from coursepay.errors import ConditionFailed, Conflict, InvalidRequest
from coursepay.storage.dynamo import DynamoTable, item_to_model


def _key(gig_id: str) -> dict[str, str]:
    return {"pk": f"GIG#{gig_id}", "sk": "GIG"}


def _from_item(item: dict[str, Any]) -> Gig:
    return item_to_model(Gig, item)


def _index_keys(gig: Gig) -> dict[str, str]:
    listed = f"{gig.created_at}#{gig.gig_id}"
    keys = {"gsi2pk": f"TEACHER#{gig.teacher_id}", "gsi2sk": f"{gig.status}#{listed}"}
    if gig.active:
        keys |= {"gsi1pk": "GIGS#active", "gsi1sk": listed, "gsi3pk": f"SUBJECT#{gig.subject}", "gsi3sk": listed}
    return keys


def encode_cursor(key: dict[str, Any] | None) -> str | None:
    return base64.urlsafe_b64encode(json.dumps(key).encode()).decode() if key else None


def decode_cursor(cursor: str | None) -> dict[str, Any] | None:
    if not cursor:
        return None
    try:
        key = json.loads(base64.urlsafe_b64decode(cursor.encode()))
    except (ValueError, json.JSONDecodeError):
        raise InvalidRequest("not a cursor this API returned", field="cursor") from None
    if not isinstance(key, dict):
        raise InvalidRequest("not a cursor this API returned", field="cursor")
    return key


def _rate_filter(query: GigQuery) -> Any:
    from boto3.dynamodb.conditions import Attr

    if query.currency is None:
        return None
    condition: Any = Attr("currency").eq(query.currency)
    if query.min_rate is not None:
        condition = condition & Attr("hourly_rate").gte(query.min_rate)
    if query.max_rate is not None:
        condition = condition & Attr("hourly_rate").lte(query.max_rate)
    return condition


class GigsRepository:
    def __init__(self, table_name: str) -> None:
        self.table = DynamoTable(table_name)

    def create(self, gig: Gig) -> None:
        """ConditionFailed if a gig with this id exists (a repeated creation request)."""
        self.table.put_new({**_key(gig.gig_id), **gig.model_dump(), **_index_keys(gig)})

    def replace(self, gig: Gig, read_version: int) -> None:
        """Write ``gig`` (its version already bumped) if nobody wrote since ``read_version``; else 409. A whole
        put, so a gig that stops being active loses its sparse public index keys."""
        item = {**_key(gig.gig_id), **gig.model_dump(), **_index_keys(gig)}
        try:
            self.table.put(item, condition="version = :read", values={":read": read_version})
        except ConditionFailed:
            raise Conflict("the gig changed since it was read; read it again and retry", field="version") from None

    def get(self, gig_id: str) -> Gig | None:
        item = self.table.get(_key(gig_id))
        return _from_item(item) if item else None

    def public(self, query: GigQuery) -> GigPage:
        if query.teacher_id is not None:
            partition, index = ("gsi2pk", f"TEACHER#{query.teacher_id}"), "gsi2"
            sort_prefix: tuple[str, str] | None = ("gsi2sk", "active#")
        elif query.subject is not None:
            partition, index, sort_prefix = ("gsi3pk", f"SUBJECT#{query.subject}"), "gsi3", None
        else:
            partition, index, sort_prefix = ("gsi1pk", "GIGS#active"), "gsi1", None
        filters = _rate_filter(query)
        if query.teacher_id is not None and query.subject is not None:
            from boto3.dynamodb.conditions import Attr

            filters = Attr("subject").eq(query.subject) if filters is None else filters & Attr("subject").eq(
                query.subject)
        items, last = self.table.query_page(partition=partition, sort_prefix=sort_prefix, index=index,
                                            limit=query.limit, start_key=decode_cursor(query.cursor),
                                            newest_first=True, filter_condition=filters)
        return GigPage(items=[_from_item(item) for item in items], next_cursor=encode_cursor(last))

    def of_teacher(self, teacher_id: str, *, limit: int, cursor: str | None) -> GigPage:
        items, last = self.table.query_page(partition=("gsi2pk", f"TEACHER#{teacher_id}"), index="gsi2",
                                            limit=limit, start_key=decode_cursor(cursor), newest_first=True)
        return GigPage(items=[_from_item(item) for item in items], next_cursor=encode_cursor(last))

