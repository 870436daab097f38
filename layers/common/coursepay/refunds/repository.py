"""Refund requests (payments table).

Keys: ``pk=REFUND_REQUEST#<id>, sk=REFUND_REQUEST``; gsi1 ``USER#<user>`` / ``REFUND_REQUEST#<requested_at>`` (a
student's requests); gsi2 ``REFUND_REQUESTS#<status>`` / ``<requested_at>#<id>`` (the admins' queue by status).
At most one open request per payment: ``pk=PAYMENT#<payment>, sk=REFUND_OPEN`` is written in the same
transaction as the request and deleted when it is decided. Never deleted otherwise, no TTL.
"""

from __future__ import annotations

from typing import Any

from pydantic import ConfigDict

from coursepay.clock import iso_now
from coursepay.errors import ConditionFailed, Conflict
from coursepay.refunds.views import RefundRequestStatus, RefundRequestView
from coursepay.storage.cursors import decode_cursor, encode_cursor
from coursepay.storage.dynamo import DynamoTable, item_to_model, translated_errors

OPEN_STATES = ("pending", "approving")


class RefundRequest(RefundRequestView):
    model_config = ConfigDict(extra="ignore")

    attempt: int = 1  # part of the Stripe idempotency key; raised when Stripe refused an approval


def _key(request_id: str) -> dict[str, str]:
    return {"pk": f"REFUND_REQUEST#{request_id}", "sk": "REFUND_REQUEST"}


def _open_key(payment_id: str) -> dict[str, str]:
    return {"pk": f"PAYMENT#{payment_id}", "sk": "REFUND_OPEN"}


def _queue(status: str) -> str:
    return f"REFUND_REQUESTS#{status}"


def _from_item(item: dict[str, Any]) -> RefundRequest:
    return item_to_model(RefundRequest, item)


class RefundRequestsRepository:
    def __init__(self, payments_table: str) -> None:
        self._table = DynamoTable(payments_table)

    def create(self, request: RefundRequest) -> None:
        """Store a new request with its payment's open-request marker, atomically; Conflict if one is open."""
        item = {**_key(request.request_id), **request.model_dump(exclude_none=True),
                "gsi1pk": f"USER#{request.user_id}", "gsi1sk": f"REFUND_REQUEST#{request.requested_at}",
                "gsi2pk": _queue(request.status), "gsi2sk": f"{request.requested_at}#{request.request_id}"}
        marker = {**_open_key(request.payment_id), "request_id": request.request_id, "created_at": iso_now()}
        client = self._table.table.meta.client  # the resource's client: it serialises Python values itself
        try:
            with translated_errors():
                client.transact_write_items(TransactItems=[
                    {"Put": {"TableName": self._table.name, "Item": marker,
                             "ConditionExpression": "attribute_not_exists(pk)"}},
                    {"Put": {"TableName": self._table.name, "Item": item,
                             "ConditionExpression": "attribute_not_exists(pk)"}},
                ])
        except ConditionFailed:
            raise Conflict("a refund request for this payment is already open", field="paymentId") from None

    def get(self, request_id: str) -> RefundRequest | None:
        item = self._table.get(_key(request_id))
        return _from_item(item) if item else None

    def transition(self, request: RefundRequest, status: RefundRequestStatus, *, expected: tuple[str, ...],
                   **fields: Any) -> RefundRequest:
        """Move to ``status`` if the stored status is one of ``expected``; ConditionFailed otherwise."""
        values = {f":e{i}": state for i, state in enumerate(expected)}
        updated = self._table.update(
            _key(request.request_id),
            set_fields={"status": status, "gsi2pk": _queue(status), "updated_at": iso_now(), **fields},
            condition="#st IN (" + ", ".join(values) + ")", names={"#st": "status"}, values=values)
        if status not in OPEN_STATES:
            self._table.delete(_open_key(request.payment_id))
        return _from_item(updated)

    def page_by_status(self, status: str, *, limit: int,
                       cursor: str | None) -> tuple[list[RefundRequest], str | None]:
        """One page of the admins' queue of ``status``, oldest first (the order they were asked in)."""
        start = decode_cursor(cursor, expected_keys={"pk", "sk", "gsi2pk", "gsi2sk"})
        items, last = self._table.query_page(partition=("gsi2pk", _queue(status)), index="gsi2", limit=limit,
                                             start_key=start)
        return [_from_item(item) for item in items], encode_cursor(last)

    def of_user(self, user_id: str) -> list[RefundRequest]:
        items = self._table.query_all(partition=("gsi1pk", f"USER#{user_id}"),
                                      sort_prefix=("gsi1sk", "REFUND_REQUEST#"), index="gsi1")
        return sorted((_from_item(item) for item in items), key=lambda r: r.requested_at, reverse=True)
