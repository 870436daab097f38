"""Courses and their price history in the courses table.

Items (``docs/data-model.md``, section "Courses"):

- course ``pk=COURSE#<id>, sk=COURSE``; gsi1 ``TEACHER#<teacher>`` / ``<status>#<created_at>#<id>`` (a teacher's
  courses, any status; ``active#`` prefix for the public catalogue filtered by teacher); gsi2 ``CATALOGUE`` /
  ``<created_at>#<id>`` only while active (a sparse index: the public catalogue is one query, newest first).
- price ``pk=COURSE#<id>, sk=PRICE#<price id>``: every Stripe Price the course has had (price history).

Every course write is conditional on the ``version`` read, so two concurrent edits cannot lose one another.
"""

from __future__ import annotations

from contextlib import suppress
from typing import Any

from coursepay.clock import iso_now
from coursepay.courses.models import Course, PriceRecord
from coursepay.errors import ConditionFailed
from coursepay.storage.batches import BatchRead, Slot
from coursepay.storage.cursors import decode_cursor, encode_cursor
from coursepay.storage.dynamo import DynamoTable, item_to_model

COURSE_SK = "COURSE"
CATALOGUE = "CATALOGUE"


def course_key(course_id: str) -> dict[str, str]:
    return {"pk": f"COURSE#{course_id}", "sk": COURSE_SK}


def _course_item(course: Course) -> dict[str, Any]:
    item: dict[str, Any] = {
        **course_key(course.course_id),
        **course.model_dump(exclude_none=True),
        "gsi1pk": f"TEACHER#{course.teacher_id}",
        "gsi1sk": f"{course.status}#{course.created_at}#{course.course_id}",
    }
    if course.status == "active":
        item["gsi2pk"], item["gsi2sk"] = CATALOGUE, f"{course.created_at}#{course.course_id}"
    return item


class CoursesRepository:
    def __init__(self, table_name: str) -> None:
        self.table = DynamoTable(table_name)

    def get(self, course_id: str) -> Course | None:
        item = self.table.get(course_key(course_id))
        return item_to_model(Course, item) if item else None

    def want(self, batch: BatchRead, course_id: str) -> Slot[Course]:
        """The course, read with the other keys of ``batch``."""
        return batch.want(self.table, course_key(course_id), lambda item: item_to_model(Course, item))

    def create(self, course: Course) -> Course:
        """Store a new course (version 1); ConditionFailed if the id exists."""
        stored = course.model_copy(update={"version": 1})
        self.table.put(_course_item(stored), condition="attribute_not_exists(pk)")
        return stored

    def save(self, course: Course) -> Course:
        """Write ``course`` if nobody wrote it since it was read (ConditionFailed otherwise); returns it with its
        new version."""
        stored = course.model_copy(update={"version": course.version + 1, "updated_at": iso_now()})
        self.table.put(_course_item(stored), condition="#v = :v", names={"#v": "version"},
                       values={":v": course.version})
        return stored

    def catalogue_page(self, *, limit: int, cursor: str | None, teacher_id: str | None) -> tuple[list[Course],
                                                                                                  str | None]:
        if teacher_id:
            start = decode_cursor(cursor, expected_keys={"pk", "sk", "gsi1pk", "gsi1sk"})
            items, last = self.table.query_page(partition=("gsi1pk", f"TEACHER#{teacher_id}"),
                                                sort_prefix=("gsi1sk", "active#"), index="gsi1", limit=limit,
                                                start_key=start, newest_first=True)
        else:
            start = decode_cursor(cursor, expected_keys={"pk", "sk", "gsi2pk", "gsi2sk"})
            items, last = self.table.query_page(partition=("gsi2pk", CATALOGUE), index="gsi2", limit=limit,
                                                start_key=start, newest_first=True)
        return [item_to_model(Course, item) for item in items], encode_cursor(last)

    def of_teacher_page(self, teacher_id: str, *, limit: int, cursor: str | None) -> tuple[list[Course], str | None]:
        start = decode_cursor(cursor, expected_keys={"pk", "sk", "gsi1pk", "gsi1sk"})
        items, last = self.table.query_page(partition=("gsi1pk", f"TEACHER#{teacher_id}"), index="gsi1",
                                            limit=limit, start_key=start)
        return [item_to_model(Course, item) for item in items], encode_cursor(last)

    # ------------------------------------------------------------ price history
    def add_price(self, record: PriceRecord) -> None:
        """Record a price; a second call for the same Stripe Price (a retried edit) changes nothing."""
        with suppress(ConditionFailed):
            self.table.put_new({"pk": f"COURSE#{record.course_id}", "sk": f"PRICE#{record.price_id}",
                                **record.model_dump(exclude_none=True)})

    def set_price_state(self, course_id: str, price_id: str, **fields: str) -> None:
        self.table.update({"pk": f"COURSE#{course_id}", "sk": f"PRICE#{price_id}"}, set_fields=fields,
                          condition="attribute_exists(pk)")

    def price_history(self, course_id: str) -> list[PriceRecord]:
        items = self.table.query_all(partition=("pk", f"COURSE#{course_id}"), sort_prefix=("sk", "PRICE#"))
        records = [item_to_model(PriceRecord, item) for item in items]
        return sorted(records, key=lambda record: record.created_at)
