"""What the courses API shows of a course (``Course.public_view()`` builds it; ``@responds`` checks it): the public
view, and the management view its teacher and admins get (price history, Stripe Product)."""

from __future__ import annotations

from typing import Literal

from coursepay.courses.models import CourseStatus, PriceRecord
from coursepay.views import PublicView


class PriceOption(PublicView):
    amount: int  # minor units
    currency: str
    stripe_price_id: str | None  # None while the price is being created or changed


class MonthlyPriceOption(PriceOption):
    interval: Literal["month"] = "month"


class CoursePricing(PublicView):
    currency: str
    monthly: MonthlyPriceOption | None  # None: not sold by the month
    one_time: PriceOption | None  # None: not sold for a one-time price


class CourseView(PublicView):
    course_id: str
    teacher_id: str
    title: str
    description: str
    outline: list[str]
    status: CourseStatus
    pricing: CoursePricing
    created_at: str
    updated_at: str


class CourseManagementView(CourseView):
    """``GET /teacher/courses/{courseId}``: the two fields are there for the course's teacher and admins (another
    teacher sees an active course's public view, they are then None)."""

    price_history: list[PriceRecord] | None = None
    stripe_product_id: str | None = None
