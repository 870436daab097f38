"""Calendar arithmetic of billing periods and time-based proration, shared by subscriptions and discounts."""

from __future__ import annotations

import calendar
from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction

from ..errors import invalid
from ..forms import Params

PRORATION_BEHAVIOURS = ("create_prorations", "none", "always_invoice")


def add_interval(anchor: int, interval: str, count: int, n: int) -> int:
    """``anchor`` plus ``n`` billing intervals, clamping month ends like Stripe (Jan 31 -> Feb 28)."""
    if interval == "day":
        return anchor + 86400 * count * n
    if interval == "week":
        return anchor + 7 * 86400 * count * n
    dt = datetime.fromtimestamp(anchor, UTC)
    months = count * n * (12 if interval == "year" else 1)
    years, month0 = divmod(dt.month - 1 + months, 12)
    year, month = dt.year + years, month0 + 1
    day = min(dt.day, calendar.monthrange(year, month)[1])
    return int(dt.replace(year=year, month=month, day=day).timestamp())


def round_minor(value: Fraction | Decimal) -> int:
    """An exact amount rounded to whole minor units, halves away from zero (1.5 -> 2, -1.5 -> -2)."""
    exact = Decimal(value.numerator) / Decimal(value.denominator) if isinstance(value, Fraction) else value
    return int(exact.to_integral_value(ROUND_HALF_UP))


def prorated(full_period_amount: Fraction | int, start: int, end: int, at: int) -> int:
    """Stripe's time-based proration, to the second: ``amount * (end - at) / (end - start)``, rounded once."""
    if end <= start:
        return 0
    return round_minor(Fraction(full_period_amount) * (end - at) / (end - start))


def day_label(timestamp: int) -> str:
    """``03 Mar 2017``, the date format of Stripe's proration line descriptions."""
    return datetime.fromtimestamp(timestamp, UTC).strftime("%d %b %Y")


def proration_behaviour(p: Params) -> str:
    """``proration_behavior`` of a request (default ``create_prorations``)."""
    value = p.str("proration_behavior", "create_prorations")
    if value not in PRORATION_BEHAVIOURS:
        raise invalid("proration_behavior", "Invalid proration_behavior: must be one of always_invoice, "
                      "create_prorations, or none", "parameter_invalid_string")
    return str(value)
