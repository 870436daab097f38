"""Tutoring marketplace, teachers' side: gigs (bookable offers) and the teacher's payout account (Stripe
Connect). Booking, confirmation and payment of a gig come with the booking lifecycle."""
from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from coursepay.views import Page, PublicView

GigStatus = Literal["draft", "active", "paused", "archived"]


class WeeklyWindow(BaseModel):
    """A bookable window on one weekday, wall-clock time in the gig's time zone (``weekday`` 0 = Monday)."""

    weekday: int = Field(ge=0, le=6)
    start: str  # "HH:MM"
    end: str  # "HH:MM", after start, same day


class GigView(PublicView):
    """A gig as the API shows it (the public pages and its teacher alike)."""

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
    created_at: str
    updated_at: str


class Gig(GigView):
    """The stored gig and its teacher's view: the version a PATCH names (every write is conditional on it)."""

    model_config = ConfigDict(extra="ignore")

    version: int = 1

    @property
    def active(self) -> bool:
        return self.status == "active"


GigPage = Page[Gig]


class PayoutStatusView(PublicView):
    """A teacher's Stripe Connect (Express) account as coursepay last heard of it."""

    teacher_id: str
    account_id: str
    charges_enabled: bool = False
    payouts_enabled: bool = False
    details_submitted: bool = False
    requirements_due: list[str] = Field(default_factory=list)
    created_at: str
    updated_at: str


class PayoutAccount(PayoutStatusView):
    """The stored record. ``state_at`` is the ``created`` of the Stripe event that state came from (0: the
    account's creation response, before any event), so an older event never overwrites a newer state."""

    model_config = ConfigDict(extra="ignore")

    state_at: int = 0


class OnboardingLink(PublicView):
    """Stripe's hosted onboarding page for the teacher's Connect account (``expires_at``: Unix seconds)."""

    model_config = ConfigDict(json_schema_extra={"examples": [{
        "account_id": "acct_1",
        "url": "https://connect.stripe.com/setup/e/acct_1/x",
        "expires_at": 1767225600,
    }]})

    account_id: str
    url: str
    expires_at: int


class DashboardLink(PublicView):
    url: str


class TeacherProfile(BaseModel):
    teacher_id: str
    gigs: list[Gig]


class TeacherProfileView(PublicView):
    teacher_id: str
    gigs: list[GigView]
