"""What a teacher may send about a gig, validated: a bad field is a 400 naming it (coursepay.api.request_parsing)."""
from __future__ import annotations

from datetime import time
from itertools import pairwise
from typing import Annotated
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, StrictInt, field_validator, model_validator

from coursepay.bookings.models import WeeklyWindow
from coursepay.errors import InvalidRequest
from coursepay.views import PageQuery

GIG_DURATIONS = (30, 45, 60, 90, 120)
GIG_CURRENCIES = ("usd", "eur", "gbp")
# An hourly rate below 5.00 or above 1,000.00 (in the currency's major unit) is a typo, not an offer.
MIN_HOURLY_RATE = 500
MAX_HOURLY_RATE = 100_000
MAX_NOTICE_HOURS = 24 * 14
MAX_WINDOWS = 50

Title = Annotated[str, Field(min_length=1, max_length=120)]
Description = Annotated[str, Field(max_length=5000)]
Subject = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9-]{0,39}$")]  # a slug: "maths", "spanish"
Language = Annotated[str, Field(pattern=r"^[a-z]{2}$")]  # ISO 639-1
Rate = Annotated[StrictInt, Field(ge=MIN_HOURLY_RATE, le=MAX_HOURLY_RATE)]
Notice = Annotated[StrictInt, Field(ge=0, le=MAX_NOTICE_HOURS)]


def _clock(value: str) -> time:
    try:
        parsed = time.fromisoformat(value)
    except ValueError:
        raise ValueError("must be HH:MM") from None
    if len(value) != 5 or parsed.minute % 15:
        raise ValueError("must be HH:MM on a quarter hour")
    return parsed


def check_availability(windows: list[WeeklyWindow] | None) -> list[WeeklyWindow] | None:
    if windows is None:  # an edit that leaves it alone
        return None
    if not windows:
        raise ValueError("at least one weekly window is required")
    if len(windows) > MAX_WINDOWS:
        raise ValueError(f"at most {MAX_WINDOWS} weekly windows")
    spans = sorted((w.weekday, _clock(w.start), _clock(w.end)) for w in windows)
    for weekday, start, end in spans:
        if end <= start:
            raise ValueError(f"a window on weekday {weekday} ends before it starts")
    for (day_a, _, end_a), (day_b, start_b, _) in pairwise(spans):
        if day_a == day_b and start_b < end_a:
            raise ValueError(f"windows on weekday {day_a} overlap")
    return windows


def check_durations(durations: list[int] | None) -> list[int] | None:
    if durations is None:
        return None
    if not durations:
        raise ValueError("at least one duration is required")
    unknown = sorted(set(durations) - set(GIG_DURATIONS))
    if unknown:
        raise ValueError(f"{unknown} not offered: choose from {list(GIG_DURATIONS)} minutes")
    return sorted(set(durations))


def check_time_zone(name: str | None) -> str | None:
    if name is None:
        return None
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError("must be an IANA time zone, e.g. Europe/Berlin") from None
    return name


class GigFields(BaseModel):
    model_config = ConfigDict(extra="forbid")

    _availability = field_validator("availability", check_fields=False)(check_availability)
    _durations = field_validator("durations", check_fields=False)(check_durations)
    _time_zone = field_validator("time_zone", check_fields=False)(check_time_zone)


class CreateGigRequest(GigFields):
    title: Title
    description: Description = ""
    subject: Subject
    language: Language
    hourly_rate: Rate
    currency: str = Field(default="usd", pattern="^(" + "|".join(GIG_CURRENCIES) + ")$")
    durations: list[StrictInt]
    time_zone: str
    availability: list[WeeklyWindow]
    min_notice_hours: Notice = 24


class UpdateGigRequest(GigFields):
    """Only the fields sent change; ``version`` is the one the teacher read (409 if it moved on)."""

    version: StrictInt = Field(ge=1)
    title: Title | None = None
    description: Description | None = None
    subject: Subject | None = None
    language: Language | None = None
    hourly_rate: Rate | None = None
    currency: str | None = Field(default=None, pattern="^(" + "|".join(GIG_CURRENCIES) + ")$")
    durations: list[StrictInt] | None = None
    time_zone: str | None = None
    availability: list[WeeklyWindow] | None = None
    min_notice_hours: Notice | None = None

    @model_validator(mode="after")
    def _something_changes(self) -> UpdateGigRequest:
        if not self.model_fields_set - {"version"}:
            raise InvalidRequest("nothing to change", field="body")
        unset = sorted(f for f in self.model_fields_set if getattr(self, f) is None)
        if unset:
            raise InvalidRequest(f"{unset[0]}: may not be null", field=unset[0])
        return self


# Cross-field checks raise InvalidRequest (not ValueError): pydantic lets it through, with the field it names.
class GigQuery(PageQuery):
    """``GET /gigs`` filters. A rate range needs its currency: rates in different currencies do not compare."""

    subject: Subject | None = None
    teacher_id: str | None = Field(default=None, min_length=1, max_length=128)
    currency: str | None = Field(default=None, pattern="^(" + "|".join(GIG_CURRENCIES) + ")$")
    min_rate: int | None = Field(default=None, ge=0)
    max_rate: int | None = Field(default=None, ge=0)

    @model_validator(mode="after")
    def _rate_range(self) -> GigQuery:
        if (self.min_rate is not None or self.max_rate is not None) and self.currency is None:
            raise InvalidRequest("currency: a rate range needs the currency it is in", field="currency")
        if self.min_rate is not None and self.max_rate is not None and self.min_rate > self.max_rate:
            raise InvalidRequest("min_rate: must not exceed max_rate", field="min_rate")
        return self


class TeacherGigsQuery(PageQuery):
    """``GET /teacher/gigs``: the teacher's own gigs, a page at a time."""



class OnboardingRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    refresh_url: str = Field(min_length=1, max_length=2048)
    return_url: str = Field(min_length=1, max_length=2048)
