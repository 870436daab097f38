"""Settings of the bookings functions: the API (gigs, payout onboarding, bookings) and the scheduler.

The booking rules (docs/engineering.md, "Booking lifecycle" and "Booking fee") are read and validated at the
cold start like every setting: a malformed or missing minimum fee fails the first invocation, not a booking."""

from __future__ import annotations

from decimal import Decimal

from pydantic import Field, field_validator, model_validator

from coursepay.bookings.requests import GIG_CURRENCIES
from coursepay.settings import AuditSettings, CheckoutSettings, FunctionSettings, StripeSettings

DEFAULT_MINIMUM_FEES = {currency: 100 for currency in GIG_CURRENCIES}  # 1.00 in the major unit


class BookingRulesSettings(FunctionSettings):
    request_expiry_hours: int = Field(default=24, ge=1, le=24 * 7)  # a request unanswered this long expires
    payment_deadline_hours: int = Field(default=24, ge=1, le=24 * 7)  # after confirmation, to pay
    auto_complete_hours: int = Field(default=48, ge=1, le=24 * 30)  # after the end, unless a problem is reported
    reminder_hours: int = Field(default=24, ge=1, le=24 * 7)  # booking.reminder_due this long before the start
    booking_fee_percent: Decimal = Field(default=Decimal(5), gt=0, lt=100)
    # "usd:100,eur:100,gbp:100": the fee's minimum per currency, in its minor unit
    booking_minimum_fees: dict[str, int] = Field(default_factory=lambda: dict(DEFAULT_MINIMUM_FEES))

    @field_validator("booking_minimum_fees", mode="before")
    @classmethod
    def _parse_minimums(cls, value: object) -> object:
        if not isinstance(value, str):
            return value
        minimums: dict[str, str] = {}
        for pair in filter(None, (part.strip() for part in value.split(","))):
            currency, separator, amount = pair.partition(":")
            if not separator:
                raise ValueError(f"{pair!r} is not currency:amount")
            minimums[currency.strip().lower()] = amount.strip()
        return minimums

    @model_validator(mode="after")
    def _every_currency_has_a_minimum(self) -> BookingRulesSettings:
        missing = sorted(set(GIG_CURRENCIES) - set(self.booking_minimum_fees))
        if missing:
            raise ValueError(f"booking_minimum_fees has no minimum for {missing}")
        if any(amount <= 0 for amount in self.booking_minimum_fees.values()):
            raise ValueError("booking_minimum_fees must be positive minor-unit amounts")
        return self


class BookingsSettings(BookingRulesSettings, AuditSettings, StripeSettings):
    bookings_table: str
    event_bus_name: str  # the coursepay.bookings domain events
    allowed_redirect_origins: tuple[str, ...] = Field(default=())  # onboarding refresh/return URLs

    _origins = field_validator("allowed_redirect_origins", mode="before")(
        CheckoutSettings._split_origins.__func__)  # type: ignore[attr-defined]


class BookingsSchedulerSettings(BookingRulesSettings, AuditSettings):
    bookings_table: str
    event_bus_name: str
