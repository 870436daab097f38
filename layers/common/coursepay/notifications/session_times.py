"""A booked session's times as its participants read them: in the gig's time zone (the teacher's, which the
booking carries as ``time_zone``), named, e.g. ``Tuesday 15 December 2026, 15:00-16:30 (Europe/Berlin)``."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

EN_DASH = "\u2013"


def local_time(moment: str, time_zone: str) -> datetime:
    return datetime.fromisoformat(moment).astimezone(ZoneInfo(time_zone))


def session_period(start: str, end: str, time_zone: str) -> str:
    begins, ends = local_time(start, time_zone), local_time(end, time_zone)
    day = f"{begins:%A} {begins.day} {begins:%B %Y}"
    if ends.date() != begins.date():
        return f"{day}, {begins:%H:%M} {EN_DASH} {ends:%A} {ends.day} {ends:%B %Y}, {ends:%H:%M} ({time_zone})"
    return f"{day}, {begins:%H:%M}{EN_DASH}{ends:%H:%M} ({time_zone})"


def moment_in(moment: str, time_zone: str) -> str:
    """One moment (a deadline): ``Wednesday 2 December 2026, 11:00 (Europe/Berlin)``."""
    at = local_time(moment, time_zone)
    return f"{at:%A} {at.day} {at:%B %Y}, {at:%H:%M} ({time_zone})"
