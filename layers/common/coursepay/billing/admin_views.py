"""What admins look up in the ledger: payments by filters, one user's payments and enrollments. Queries only.

``GET /admin/payments`` pages PaymentsTable's gsi3 (``PAYMENTS#<yyyy-mm>`` / ``<created_at>#<payment_id>``: every
payment, by the month it was created), newest first, from the ``to`` month back to the ``from`` month, the day range
in the sort key; with ``user_id`` it pages that user's partition of gsi1 instead. ``status`` and ``kind`` are filters
on what the key condition read, so a page may hold fewer than ``limit`` items while ``next_cursor`` is not null.
"""

from __future__ import annotations

import re
from datetime import date, timedelta
from typing import Annotated, Any

from pydantic import BeforeValidator, Field, model_validator
from pydantic_core import PydanticCustomError

from coursepay.billing.enrollments import Enrollment, EnrollmentsRepository
from coursepay.billing.payments import Payment, PaymentsRepository, PaymentStatus, ProductKind, payment_from_item
from coursepay.billing.summary import DailySummary, Summary
from coursepay.clock import utc_now
from coursepay.errors import InvalidRequest
from coursepay.identity import ADMINS, Principal
from coursepay.storage.cursors import decode_cursor, encode_cursor
from coursepay.storage.dynamo import translated_errors
from coursepay.views import PageQuery, PublicView, Query

DEFAULT_DAYS = 30
MAX_DAYS = 366
# how many index pages one request reads at most while filling a page (a page may then be short)
_MAX_READS = 10
_USER_ID = re.compile(r"^[A-Za-z0-9_-]{1,128}$")
_ISO_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_TABLE_KEYS = {"pk", "sk"}


class UserOverview(PublicView):
    """``GET /admin/users/{userId}``: the user's ledger records, whole (admins)."""

    user_id: str
    payments: list[Payment]
    enrollments: list[Enrollment]


def _iso_day(value: Any) -> Any:
    # pydantic alone also takes a datetime at midnight or a number of seconds for a date
    if isinstance(value, str) and not _ISO_DAY.match(value):
        raise PydanticCustomError("date_format", "must be a date (YYYY-MM-DD)")
    return value


Day = Annotated[date, BeforeValidator(_iso_day)]


class PeriodQuery(Query):
    """``?from=&to=``: whole UTC days, both included, at most ``MAX_DAYS`` apart (``GET /admin/summary`` and the
    search). Cross-field checks raise InvalidRequest, which pydantic lets through with the field it names."""

    to_day: Day = Field(default_factory=lambda: utc_now().date(), alias="to",
                        description="The last day (UTC), included; today by default")
    from_day: Day = Field(default_factory=lambda data: data["to_day"] - timedelta(days=DEFAULT_DAYS - 1),
                          alias="from", description=f"The first day (UTC), included; {DEFAULT_DAYS} days up to "
                                                    "`to` by default")

    @model_validator(mode="after")
    def _a_period(self) -> PeriodQuery:
        if self.from_day > self.to_day:
            raise InvalidRequest("from must not be after to", field="from")
        if (self.to_day - self.from_day).days >= MAX_DAYS:
            raise InvalidRequest(f"from and to may be at most {MAX_DAYS} days apart", field="from")
        return self


class PaymentSearchQuery(PageQuery, PeriodQuery):
    """``GET /admin/payments``: the period's payments, newest first, optionally of one status, kind or user."""

    status: PaymentStatus | None = Field(default=None, description="Only payments in this status")
    kind: ProductKind | None = Field(default=None, description="Only payments for this kind of product")
    user_id: str | None = Field(default=None, pattern=_USER_ID.pattern, description="Only this user's payments")


def _months(filters: PeriodQuery) -> list[str]:
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

    def summary(self, admin: Principal, period: PeriodQuery) -> Summary:
        """The period's daily aggregates (``from``/``to`` as in the search: 30 days to today by default)."""
        admin.require_any_group(ADMINS)
        return self._summary.read(period.from_day, period.to_day)

    def search(self, admin: Principal, filters: PaymentSearchQuery) -> tuple[list[Payment], str | None]:
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
        partitions, start = _resume(filters.cursor, partitions, _TABLE_KEYS | set(names))
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
