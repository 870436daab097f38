"""What admins look up in the ledger: payments by filters, one user's payments and enrollments. Queries only.

``GET /admin/payments`` pages PaymentsTable's gsi3 (``PAYMENTS#<yyyy-mm>`` / ``<created_at>#<payment_id>``: every
payment, by the month it was created), newest first, from the ``to`` month back to the ``from`` month, the day range
in the sort key; with ``user_id`` it pages that user's partition of gsi1 instead. ``status`` and ``kind`` are filters
on what the key condition read, so a page may hold fewer than ``limit`` items while ``next_cursor`` is not null.
"""

from __future__ import annotations

import re
from datetime import date, timedelta
from typing import Any, get_args

from pydantic import BaseModel

from coursepay.billing.enrollments import Enrollment, EnrollmentsRepository
from coursepay.billing.payments import Payment, PaymentsRepository, PaymentStatus, ProductKind, payment_from_item
from coursepay.billing.summary import DailySummary, Summary
from coursepay.clock import utc_now
from coursepay.errors import InvalidRequest
from coursepay.identity import ADMINS, Principal
from coursepay.storage.cursors import decode_cursor, encode_cursor, page_limit
from coursepay.storage.dynamo import translated_errors
from coursepay.views import PublicView

DEFAULT_DAYS = 30
MAX_DAYS = 366
# how many index pages one request reads at most while filling a page (a page may then be short)
_MAX_READS = 10
_USER_ID = re.compile(r"^[A-Za-z0-9_-]{1,128}$")
_TABLE_KEYS = {"pk", "sk"}


class UserOverview(PublicView):
    """``GET /admin/users/{userId}``: the user's ledger records, whole (admins)."""

    user_id: str
    payments: list[Payment]
    enrollments: list[Enrollment]


class PaymentFilters(BaseModel):
    status: PaymentStatus | None = None
    kind: ProductKind | None = None
    user_id: str | None = None
    from_day: date
    to_day: date
    limit: int


def _day(raw: str | None, field: str) -> date | None:
    if not raw:
        return None
    try:
        return date.fromisoformat(raw) if len(raw) == 10 else _refuse(field)
    except ValueError:
        return _refuse(field)


def _refuse(field: str) -> date:
    raise InvalidRequest(f"{field} must be a date (YYYY-MM-DD)", field=field)


def _one_of(raw: str | None, allowed: tuple[str, ...], field: str) -> Any:
    if not raw:
        return None
    if raw not in allowed:
        raise InvalidRequest(f"{field} must be one of {', '.join(allowed)}", field=field)
    return raw


def payment_filters(query: dict[str, str | None], limit: int | None) -> PaymentFilters:
    """The query string of ``GET /admin/payments``, checked (a 400 naming the field otherwise)."""
    user_id = query.get("user_id") or None
    if user_id is not None and not _USER_ID.match(user_id):
        raise InvalidRequest("user_id is not a user id", field="user_id")
    to_day = _day(query.get("to"), "to") or utc_now().date()
    from_day = _day(query.get("from"), "from") or to_day - timedelta(days=DEFAULT_DAYS - 1)
    if from_day > to_day:
        raise InvalidRequest("from must not be after to", field="from")
    if (to_day - from_day).days >= MAX_DAYS:
        raise InvalidRequest(f"from and to may be at most {MAX_DAYS} days apart", field="from")
    return PaymentFilters(status=_one_of(query.get("status"), get_args(PaymentStatus), "status"),
                          kind=_one_of(query.get("kind"), get_args(ProductKind), "kind"), user_id=user_id,
                          from_day=from_day, to_day=to_day, limit=page_limit(limit))


def _months(filters: PaymentFilters) -> list[str]:
    """``yyyy-mm`` from the ``to`` month back to the ``from`` month."""
    months, year, month = [], filters.to_day.year, filters.to_day.month
    while (year, month) >= (filters.from_day.year, filters.from_day.month):
        months.append(f"{year:04d}-{month:02d}")
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    return months


def _resume(cursor: str | None, partitions: list[str],
            key_names: set[str]) -> tuple[list[str], dict[str, Any] | None]:
    """The partitions left and the key to continue from: a cursor names its partition, and the index key within
    it unless the page ended with that partition (then it starts at its top)."""
    if not cursor:
        return partitions, None
    try:
        position = decode_cursor(cursor, expected_keys={"partition"} | key_names) or {}
    except InvalidRequest:
        position = decode_cursor(cursor, expected_keys={"partition"}) or {}
    partition = position.pop("partition")
    if partition not in partitions:
        raise InvalidRequest("cursor is not one of this query", field="cursor")
    return partitions[partitions.index(partition):], position or None


class AdminPayments:
    def __init__(self, payments: PaymentsRepository, enrollments: EnrollmentsRepository,
                 summary: DailySummary) -> None:
        self._payments = payments
        self._enrollments = enrollments
        self._summary = summary

    def summary(self, admin: Principal, period: PaymentFilters) -> Summary:
        """The period's daily aggregates (``from``/``to`` as in the search: 30 days to today by default)."""
        admin.require_any_group(ADMINS)
        return self._summary.read(period.from_day, period.to_day)

    def search(self, admin: Principal, filters: PaymentFilters, cursor: str | None) -> tuple[list[Payment], str | None]:
        from boto3.dynamodb.conditions import Attr, Key  # boto3 at the first AWS call, not at init (cold start)

        admin.require_any_group(ADMINS)
        table = self._payments.table.table
        lower, upper = filters.from_day.isoformat(), f"{filters.to_day.isoformat()}~"  # '~' sorts after the times
        if filters.user_id:
            index, names = "gsi1", ("gsi1pk", "gsi1sk")
            partitions = [f"USER#{filters.user_id}"]
            lower, upper = f"PAYMENT#{lower}", f"PAYMENT#{upper}"
        else:
            index, names = "gsi3", ("gsi3pk", "gsi3sk")
            partitions = [f"PAYMENTS#{month}" for month in _months(filters)]
        partitions, start = _resume(cursor, partitions, _TABLE_KEYS | set(names))
        wanted = [Attr(name).eq(value) for name, value in (("status", filters.status), ("kind", filters.kind))
                  if value]
        condition = wanted[0] & wanted[1] if len(wanted) == 2 else (wanted[0] if wanted else None)

        items: list[dict[str, Any]] = []
        for _ in range(_MAX_READS):
            kwargs: dict[str, Any] = {
                "IndexName": index, "ScanIndexForward": False, "Limit": filters.limit - len(items),
                "KeyConditionExpression": Key(names[0]).eq(partitions[0]) & Key(names[1]).between(lower, upper)}
            if start:
                kwargs["ExclusiveStartKey"] = start
            if condition is not None:
                kwargs["FilterExpression"] = condition
            with translated_errors():
                response = table.query(**kwargs)
            items.extend(response.get("Items", []))
            start = response.get("LastEvaluatedKey")
            if not start:
                partitions = partitions[1:]
                if not partitions:
                    return [payment_from_item(item) for item in items], None
            if len(items) >= filters.limit:
                break
        # where the next page starts: inside a partition, or at the top of the next month's
        return [payment_from_item(item) for item in items], encode_cursor({"partition": partitions[0], **(start or {})})

    def user_overview(self, admin: Principal, user_id: str) -> dict[str, Any]:
        admin.require_any_group(ADMINS)
        if not _USER_ID.match(user_id):
            raise InvalidRequest("userId is not a user id", field="userId")
        return {"user_id": user_id,
                "payments": [p.model_dump() for p in self._payments.of_user(user_id)],
                "enrollments": [e.model_dump() for e in self._enrollments.of_user(user_id)]}
