"""The courses function's settings: the layer's ``CoursesSettings`` plus the payments table, where the
subscriptions that deactivation and price moves act on are read."""

from __future__ import annotations

from coursepay.settings import CoursesSettings


class CourseManagementSettings(CoursesSettings):
    payments_table: str
