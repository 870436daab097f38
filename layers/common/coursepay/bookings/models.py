"""Tutoring marketplace, teachers' side: gigs (bookable offers) and the teacher's payout account (Stripe
Connect). Booking, confirmation and payment of a gig come with the booking lifecycle."""
from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

GigStatus = Literal["draft", "active", "paused", "archived"]


class WeeklyWindow(BaseModel):
    """A bookable window on one weekday, wall-clock time in the gig's time zone (``weekday`` 0 = Monday)."""

    weekday: int = Field(ge=0, le=6)
    start: str  # "HH:MM"
    end: str  # "HH:MM", after start, same day


class Gig(BaseModel):
    gig_id: str
    teacher_id: str
    title: str
    description: str = ""
    subject: str
    language: str
    hourly_rate: int = Field(gt=0)  # minor units per hour
    currency: str = "usd"
    durations: list[int]  # minutes, a subset of GIG_DURATIONS
    time_zone: str  # IANA, the teacher's
    availability: list[WeeklyWindow]
    min_notice_hours: int = Field(ge=0)
    status: GigStatus = "draft"
    version: int = 1  # every write is conditional on the version read
    created_at: str
    updated_at: str

    @property
    def active(self) -> bool:
        return self.status == "active"


class GigPage(BaseModel):
    items: list[Gig]
    next_cursor: str | None = None


class PayoutAccount(BaseModel):
    """A teacher's Stripe Connect (Express) account as coursepay last heard of it. ``state_at`` is the
    ``created`` of the Stripe event that state came from (0: the account's creation response, before any
    event), so an older event never overwrites a newer state."""

    teacher_id: str
    account_id: str
    charges_enabled: bool = False
    payouts_enabled: bool = False
    details_submitted: bool = False
    requirements_due: list[str] = Field(default_factory=list)
    state_at: int = 0
    created_at: str
    updated_at: str


class TeacherProfile(BaseModel):
    teacher_id: str
    gigs: list[Gig]
