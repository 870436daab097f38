"""The booking rules in one place (from BookingRulesSettings): how long each party has, and the fee."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from coursepay.bookings.quote import FeeRule
from coursepay.bookings.settings import BookingRulesSettings


@dataclass(frozen=True)
class BookingRules:
    request_expiry: timedelta  # the teacher answers a request within this (and before the start)
    payment_deadline: timedelta  # the student pays a confirmed booking within this (and before the start)
    auto_complete_after: timedelta  # a paid booking completes this long after its end, unless a problem
    reminder_before: timedelta  # booking.reminder_due this long before the start
    fee: FeeRule

    @classmethod
    def from_settings(cls, settings: BookingRulesSettings) -> BookingRules:
        return cls(request_expiry=timedelta(hours=settings.request_expiry_hours),
                   payment_deadline=timedelta(hours=settings.payment_deadline_hours),
                   auto_complete_after=timedelta(hours=settings.auto_complete_hours),
                   reminder_before=timedelta(hours=settings.reminder_hours),
                   fee=FeeRule(percent=settings.booking_fee_percent, minimums=settings.booking_minimum_fees))
