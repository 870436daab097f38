"""What a booking costs, computed on the server only (docs/engineering.md, "Booking fee").

base = hourly rate x minutes / 60; fee = the fee percent of the base, at least the currency's minimum;
total = base + fee. Every step rounds half-up to the minor unit (the only rounding: the fee is computed
from the rounded base). 50.00/h x 90 min = 7500 + 375 = 7875."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from pydantic import BaseModel

from coursepay.bookings.models import Gig


class Quote(BaseModel):
    gig_id: str
    currency: str
    duration_minutes: int
    base_amount: int
    fee_amount: int
    total_amount: int
    fee_rule: str


def _half_up(value: Decimal) -> int:
    return int(value.quantize(Decimal(1), rounding=ROUND_HALF_UP))


@dataclass(frozen=True)
class FeeRule:
    percent: Decimal
    minimums: Mapping[str, int]  # per currency, minor units

    def describe(self, currency: str) -> str:
        return (f"{self.percent.normalize():f} % of the base, at least {self.minimums[currency]} {currency} minor "
                "units; each amount rounded half-up to the minor unit")

    def quote(self, gig: Gig, duration_minutes: int) -> Quote:
        base = _half_up(Decimal(gig.hourly_rate) * duration_minutes / 60)
        fee = max(_half_up(Decimal(base) * self.percent / 100), self.minimums[gig.currency])
        return Quote(gig_id=gig.gig_id, currency=gig.currency, duration_minutes=duration_minutes, base_amount=base,
                     fee_amount=fee, total_amount=base + fee, fee_rule=self.describe(gig.currency))
