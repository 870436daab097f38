"""Courses: request models (validated at the edge), the stored course, and what the API returns.

Prices are integer minor units of an ISO 4217 currency from ``ALLOWED_CURRENCIES``; the server never takes
an amount to charge from a buyer, only the teacher's list price when the course is created or edited.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from coursepay.clock import iso_now
from coursepay.text import MultilineText, PlainText
from coursepay.views import PageQuery

CourseStatus = Literal["pending_billing", "active", "inactive"]
PricingType = Literal["monthly", "one_time"]
PRICING_TYPES: tuple[PricingType, ...] = ("monthly", "one_time")

ALLOWED_CURRENCIES = frozenset({"usd", "eur", "gbp", "cad", "aud", "chf", "sek", "nok", "dkk", "nzd"})
MIN_PRICE = 50  # Stripe's minimum charge is about 0.50 in every allowed currency
MAX_PRICE = 1_000_000  # 10,000.00: a bound against typos (an extra zero or two)
MAX_OUTLINE_ITEMS = 100


def _currency(value: str) -> str:
    value = value.strip().lower()
    if value not in ALLOWED_CURRENCIES:
        raise ValueError(f"must be one of {', '.join(sorted(ALLOWED_CURRENCIES))}")
    return value


class _Request(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)



class CreateCourseRequest(_Request):
    title: PlainText = Field(min_length=1, max_length=200)
    description: MultilineText = Field(default="", max_length=5000)
    outline: list[PlainText] = Field(default_factory=list, max_length=MAX_OUTLINE_ITEMS)
    monthly_price: int | None = Field(default=None, ge=MIN_PRICE, le=MAX_PRICE, strict=True)
    one_time_price: int | None = Field(default=None, ge=MIN_PRICE, le=MAX_PRICE, strict=True)
    currency: str

    _currency = field_validator("currency")(_currency)

    @field_validator("outline")
    @classmethod
    def _outline_items(cls, value: list[str]) -> list[str]:
        items = [item.strip() for item in value]
        if any(not item or len(item) > 300 for item in items):
            raise ValueError("each outline item must have 1 to 300 characters")
        return items

    @model_validator(mode="after")
    def _some_price(self) -> CreateCourseRequest:
        if self.monthly_price is None and self.one_time_price is None:
            raise ValueError("a course needs a monthly_price, a one_time_price or both")
        return self


class UpdateCourseRequest(_Request):
    """Only the fields present change. A price set to null withdraws that pricing option (one must remain).
    ``move_subscribers`` moves existing monthly subscribers to a new monthly price from their next renewal;
    without it they keep the price they subscribed at."""

    title: PlainText | None = Field(default=None, min_length=1, max_length=200)
    description: MultilineText | None = Field(default=None, max_length=5000)
    outline: list[PlainText] | None = Field(default=None, max_length=MAX_OUTLINE_ITEMS)
    monthly_price: int | None = Field(default=None, ge=MIN_PRICE, le=MAX_PRICE, strict=True)
    one_time_price: int | None = Field(default=None, ge=MIN_PRICE, le=MAX_PRICE, strict=True)
    currency: str | None = None
    move_subscribers: bool = False

    _outline = field_validator("outline")(CreateCourseRequest._outline_items.__func__)  # type: ignore[attr-defined]

    @field_validator("currency")
    @classmethod
    def _valid_currency(cls, value: str | None) -> str | None:
        return None if value is None else _currency(value)

    @model_validator(mode="after")
    def _something(self) -> UpdateCourseRequest:
        changes = self.model_fields_set - {"move_subscribers"}
        if not changes:
            raise ValueError("nothing to change")
        for name in ("title", "description", "outline", "currency"):
            if name in changes and getattr(self, name) is None:
                raise ValueError(f"{name} cannot be null")
        return self


class CatalogueQuery(PageQuery):
    """``GET /courses``: the active catalogue, or one teacher's active courses."""

    teacher_id: str | None = Field(default=None, min_length=1, max_length=128,
                                   description="Only this teacher's courses")


class Course(BaseModel):
    """The stored course. ``monthly_price``/``one_time_price`` are the teacher's list prices; the ``*_price_id``
    fields are the Stripe Prices that currently carry them (None while ``pending_billing`` or being replaced).
    ``revision`` counts edits (it names the Stripe idempotency keys of that edit); ``version`` guards every write."""

    course_id: str
    teacher_id: str
    title: str
    description: str = ""
    outline: list[str] = Field(default_factory=list)
    currency: str
    monthly_price: int | None = None
    one_time_price: int | None = None
    status: CourseStatus = "pending_billing"
    stripe_product_id: str | None = None
    monthly_price_id: str | None = None
    one_time_price_id: str | None = None
    revision: int = 1
    version: int = 0
    created_at: str = Field(default_factory=iso_now)
    updated_at: str = Field(default_factory=iso_now)
    deactivated_at: str | None = None

    def price_of(self, pricing: PricingType) -> int | None:
        return self.monthly_price if pricing == "monthly" else self.one_time_price

    def price_id_of(self, pricing: PricingType) -> str | None:
        return self.monthly_price_id if pricing == "monthly" else self.one_time_price_id

    def pricing_view(self) -> dict[str, Any]:
        def option(pricing: PricingType) -> dict[str, Any] | None:
            amount = self.price_of(pricing)
            if amount is None:
                return None
            view: dict[str, Any] = {"amount": amount, "currency": self.currency,
                                    "stripe_price_id": self.price_id_of(pricing)}
            if pricing == "monthly":
                view["interval"] = "month"
            return view

        return {"currency": self.currency, "monthly": option("monthly"), "one_time": option("one_time")}

    def public_view(self) -> dict[str, Any]:
        return {
            "course_id": self.course_id,
            "teacher_id": self.teacher_id,
            "title": self.title,
            "description": self.description,
            "outline": self.outline,
            "status": self.status,
            "pricing": self.pricing_view(),
            "created_at": self.created_at,
            "updated_at": self.updated_at,
        }


PriceState = Literal["current", "superseded", "archived"]


class PriceRecord(BaseModel):
    """One Stripe Price a course has had (the price history; prices are immutable in Stripe)."""

    price_id: str
    course_id: str
    pricing: PricingType
    amount: int
    currency: str
    state: PriceState = "current"
    created_at: str = Field(default_factory=iso_now)
    superseded_at: str | None = None
    archived_at: str | None = None
