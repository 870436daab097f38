"""Whether a gig can be booked at a start for a duration (docs/engineering.md, "Booking lifecycle").

Checked before the booking's conditional write; the overlap with another live booking of the teacher is not
checked here but by that write (the slot locks: coursepay.bookings.booking_repository), so two requests
racing for one slot cannot both pass."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from coursepay.bookings.models import Gig
from coursepay.errors import Forbidden, InvalidRequest

MAX_ADVANCE_DAYS = 90  # a request further ahead is refused: availability that far out is not a promise


def check_bookable(gig: Gig, *, student_id: str, start: datetime, duration_minutes: int, now: datetime) -> None:
    if gig.teacher_id == student_id:
        raise Forbidden("you cannot book your own gig", field="gig_id", code="own_gig")
    if duration_minutes not in gig.durations:
        raise InvalidRequest(f"duration_minutes: this gig offers {gig.durations} minutes", field="duration_minutes",
                             code="duration_not_offered")
    if start <= now:
        raise InvalidRequest("start: is in the past", field="start", code="start_in_past")
    if start < now + timedelta(hours=gig.min_notice_hours):
        raise InvalidRequest(f"start: this gig needs {gig.min_notice_hours} hours' notice", field="start",
                             code="inside_min_notice")
    if start > now + timedelta(days=MAX_ADVANCE_DAYS):
        raise InvalidRequest(f"start: at most {MAX_ADVANCE_DAYS} days ahead", field="start", code="too_far_ahead")
    if not within_availability(gig, start, duration_minutes):
        raise InvalidRequest(f"start: outside the teacher's availability ({gig.time_zone})", field="start",
                             code="outside_availability")


def within_availability(gig: Gig, start: datetime, duration_minutes: int) -> bool:
    """The whole session inside one weekly window, in the gig's time zone (wall-clock: a window keeps its
    local hours across a daylight-saving change). A window ends the day it starts, so must the session."""
    zone = ZoneInfo(gig.time_zone)
    local_start = start.astimezone(zone)
    local_end = (start + timedelta(minutes=duration_minutes)).astimezone(zone)
    if local_end.date() != local_start.date():
        return False
    return any(window.weekday == local_start.weekday()
               and time.fromisoformat(window.start) <= local_start.time()
               and local_end.time() <= time.fromisoformat(window.end)
               for window in gig.availability)
