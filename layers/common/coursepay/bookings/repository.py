"""Gigs in the bookings table: ``pk=GIG#<id>, sk=GIG``; gsi1 ``GIGS#active`` / ``<created_at>#<id>`` lists the
active ones (sparse: an inactive gig has no gsi1 keys)."""

from __future__ import annotations

import base64
import json
from typing import Any

from coursepay.bookings.models import Gig, GigPage
from coursepay.errors import InvalidRequest
from coursepay.storage.dynamo import DynamoTable, item_to_model


def _key(gig_id: str) -> dict[str, str]:
    return {"pk": f"GIG#{gig_id}", "sk": "GIG"}


def _from_item(item: dict[str, Any]) -> Gig:
    return item_to_model(Gig, item)


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


class GigsRepository:
    def __init__(self, table_name: str) -> None:
        self.table = DynamoTable(table_name)

    def save(self, gig: Gig) -> None:
        item: dict[str, Any] = {**_key(gig.gig_id), **gig.model_dump()}
        if gig.active:
            item["gsi1pk"], item["gsi1sk"] = "GIGS#active", f"{gig.created_at}#{gig.gig_id}"
        self.table.put(item)

    def get(self, gig_id: str) -> Gig | None:
        item = self.table.get(_key(gig_id))
        return _from_item(item) if item else None

    def active(self, limit: int, cursor: str | None) -> GigPage:
        items, last = self.table.query_page(partition=("gsi1pk", "GIGS#active"), index="gsi1", limit=limit,
                                            start_key=decode_cursor(cursor), newest_first=True)
        return GigPage(items=[_from_item(item) for item in items], next_cursor=encode_cursor(last))
