"""What a student, teacher or admin may send about a booking, validated: a bad field is a 400 naming it.

Amounts are never accepted (the server computes them: coursepay.bookings.quote); an amount field in a body
is refused by ``extra="forbid"`` like any unknown field. A start is an ISO-8601 time with its offset (or
``Z``), on a quarter hour with no seconds (the slot grid: coursepay.bookings.bookings.SLOT_MINUTES)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, StrictInt, field_validator

from coursepay.bookings.bookings import SLOT_MINUTES
from coursepay.clock import iso_time
from coursepay.views import PageQuery

GigId = Field(min_length=1, max_length=64, pattern=r"^gig_[A-Za-z0-9]+$")


def parse_start(value: str) -> str:
    try:
        moment = datetime.fromisoformat(value)
    except (TypeError, ValueError):
        raise ValueError("must be an ISO-8601 time, e.g. 2026-12-07T09:00:00Z") from None
    if moment.tzinfo is None:
        raise ValueError("must carry its UTC offset or Z")
    moment = moment.astimezone(UTC)
    if moment.minute % SLOT_MINUTES or moment.second or moment.microsecond:
        raise ValueError(f"must be on the {SLOT_MINUTES}-minute grid (e.g. 09:00, 09:15), with no seconds")
    return iso_time(moment)


class SlotRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    gig_id: str = GigId
    start: str = Field(max_length=40)
    duration_minutes: StrictInt

    _start = field_validator("start")(parse_start)


class QuoteRequest(SlotRequest):
    """``POST /bookings/quote``."""


class BookingRequest(SlotRequest):
    """``POST /bookings``."""


class ReasonRequest(BaseModel):
    """decline / cancel: an optional reason the other side reads."""

    model_config = ConfigDict(extra="forbid")
    reason: str | None = Field(default=None, max_length=500)


class ProblemReport(BaseModel):
    model_config = ConfigDict(extra="forbid")
    description: str = Field(min_length=1, max_length=2000)


class BookingListQuery(PageQuery):
    """``GET /bookings``: ``role=student`` mine; ``role=teacher`` bookings of my gigs; ``role=admin`` all (admins
    only). Without a role: all for an admin, mine for anyone else."""

    role: Literal["student", "teacher", "admin"] | None = None
