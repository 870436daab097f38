"""Settings of the bookings function (gigs, teachers' payout onboarding)."""

from __future__ import annotations

from pydantic import Field, field_validator

from coursepay.settings import AuditSettings, CheckoutSettings, StripeSettings


class BookingsSettings(AuditSettings, StripeSettings):
    bookings_table: str
    allowed_redirect_origins: tuple[str, ...] = Field(default=())  # onboarding refresh/return URLs

    _origins = field_validator("allowed_redirect_origins", mode="before")(
        CheckoutSettings._split_origins.__func__)  # type: ignore[attr-defined]
