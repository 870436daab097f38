"""The booking rules without any AWS: the fee's rounding, availability in the gig's time zone across daylight
saving, the 15-minute grid of a start."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import pytest

from coursepay.bookings.booking_requests import parse_start
from coursepay.bookings.models import Gig
from coursepay.bookings.quote import FeeRule
from coursepay.bookings.slots import within_availability

RULE = FeeRule(percent=Decimal(5), minimums={"usd": 100, "eur": 100, "gbp": 100})


def gig(**fields) -> Gig:
    return Gig.model_validate({
        "gig_id": "gig_1", "teacher_id": "t", "title": "Algebra", "subject": "maths", "language": "en",
        "hourly_rate": 5000, "currency": "usd", "durations": [30, 45, 60, 90], "time_zone": "Europe/Berlin",
        "availability": [{"weekday": 0, "start": "09:00", "end": "12:00"}], "min_notice_hours": 12,
        "created_at": "x", "updated_at": "x", **fields})


@pytest.mark.parametrize(("rate", "minutes", "base", "fee"), [
    (5000, 90, 7500, 375),  # the seed's example: 78.75
    (5001, 30, 2501, 125),  # 2500.5 rounds up; 5 % of 2501 = 125.05 rounds down
    (4990, 45, 3743, 187),  # 3742.5 -> 3743; 187.15 -> 187
    (3000, 45, 2250, 113),  # 112.5 rounds up
    (500, 30, 250, 100),  # 12.5 -> 13 is under the minimum of 1.00
])
def test_fee_is_half_up_from_the_rounded_base_with_a_minimum(rate, minutes, base, fee):
    quote = RULE.quote(gig(hourly_rate=rate), minutes)
    assert (quote.base_amount, quote.fee_amount, quote.total_amount) == (base, fee, base + fee)


def test_the_minimum_is_the_currencys():
    rule = FeeRule(percent=Decimal(5), minimums={"usd": 100, "eur": 250, "gbp": 100})
    assert rule.quote(gig(currency="eur"), 60).fee_amount == 250
    assert rule.quote(gig(currency="usd"), 60).fee_amount == 250  # 5 % of 5000, above usd's minimum


def test_availability_keeps_the_local_hours_across_daylight_saving():
    berlin = gig()
    # 09:00 Berlin on a Monday: 08:00Z in winter (UTC+1), 07:00Z in summer (UTC+2)
    assert within_availability(berlin, datetime.fromisoformat("2027-01-04T08:00:00Z"), 60)
    assert not within_availability(berlin, datetime.fromisoformat("2027-01-04T07:00:00Z"), 60)
    assert within_availability(berlin, datetime.fromisoformat("2027-07-05T07:00:00Z"), 60)
    assert not within_availability(berlin, datetime.fromisoformat("2027-07-05T06:45:00Z"), 60)
    assert within_availability(berlin, datetime.fromisoformat("2027-01-04T10:30:00Z"), 30)  # ends 12:00
    assert not within_availability(berlin, datetime.fromisoformat("2027-01-04T10:30:00Z"), 45)
    assert not within_availability(berlin, datetime.fromisoformat("2027-01-05T08:00:00Z"), 60)  # a Tuesday


def test_the_weekday_is_the_gigs_not_utcs():
    new_york = gig(time_zone="America/New_York", availability=[{"weekday": 6, "start": "20:00", "end": "23:00"}])
    # Sunday 21:00 in New York is Monday 02:00Z
    assert within_availability(new_york, datetime.fromisoformat("2027-01-11T02:00:00Z"), 60)
    assert not within_availability(new_york, datetime.fromisoformat("2027-01-10T21:00:00Z"), 60)


def test_a_start_is_on_the_quarter_hour_grid_with_an_offset():
    assert parse_start("2027-01-04T09:15:00+01:00") == "2027-01-04T08:15:00.000Z"
    assert parse_start("2027-01-04T08:45:00Z") == "2027-01-04T08:45:00.000Z"
    for bad, reason in (("2027-01-04T08:10:00Z", "grid"), ("2027-01-04T08:15:30Z", "grid"),
                        ("2027-01-04T08:15:00", "offset"), ("next monday", "ISO-8601")):
        with pytest.raises(ValueError, match=reason):
            parse_start(bad)
