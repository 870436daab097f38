"""A booking of a gig: one student, one slot of the gig's teacher (docs/engineering.md, "Booking lifecycle").

``status`` is the lifecycle (pending -> confirmed -> completed, or declined / expired / cancelled);
``payment_status`` is the money (set by payments). Amounts are integer minor units computed on the server
(coursepay.bookings.quote). Times are ISO-8601 UTC text (coursepay.clock.iso_time), so they sort as they
compare."""

from __future__ import annotations

from typing import Any

from pydantic import ConfigDict, Field

from coursepay.bookings.booking_views import BookingStatus, BookingView, HostMeetingView
from coursepay.identity import Principal
from coursepay.views import Page

# A booking in one of these holds its slot of the teacher's calendar; the others have let it go.
LIVE_STATUSES: frozenset[BookingStatus] = frozenset({"pending", "confirmed", "completed"})
# Slot grid: every start is on a quarter hour (UTC, hence also in every zone with a whole-quarter offset)
# and every offered duration is a multiple of it, so two bookings overlap exactly when they share a slot.
SLOT_MINUTES = 15


class Meeting(HostMeetingView):
    model_config = ConfigDict(extra="ignore")

    host_url: str | None = None


class Booking(BookingView):
    model_config = ConfigDict(extra="forbid")  # a misspelt change is an error, not a silently dropped field

    meeting: Meeting | None = None
    version: int = Field(default=1, ge=1)  # every write is conditional on the version read

    @property
    def live(self) -> bool:
        return self.status in LIVE_STATUSES


BookingPage = Page[Booking]


def public_view(booking: Booking) -> dict[str, Any]:
    """What the API returns and the domain events carry: every field but the write version."""
    return booking.model_dump(mode="json", exclude={"version"})


def view_for(booking: Booking, viewer: Principal) -> dict[str, Any]:
    """The booking as ``viewer`` may see it through the API: the meeting's host link (Zoom's ``start_url``
    starts the meeting as its host) only for the teacher and admins."""
    view = public_view(booking)
    meeting = view.get("meeting")
    if meeting and viewer.user_id != booking.teacher_id and not viewer.is_admin:
        meeting.pop("host_url", None)
    return view


def due_at(booking: Booking) -> str | None:
    """When the scheduler next has something to do with ``booking`` (None: nothing, ever or until another
    write). Pending: the request expires. Confirmed and unpaid (or failed, still payable): the payment deadline.
    A payment in flight (``processing``) is left alone: payments moves it on. Paid: the reminder, then the
    auto-completion (none after a reported problem: an admin decides)."""
    if booking.status == "pending":
        return booking.respond_by
    if booking.status != "confirmed":
        return None
    if booking.payment_status in ("unpaid", "failed"):
        return booking.payment_due
    if booking.payment_status != "paid":
        return None
    upcoming = []
    if booking.remind_at and not booking.reminder_sent_at:
        upcoming.append(booking.remind_at)
    if booking.auto_complete_at and not booking.problem_reported:
        upcoming.append(booking.auto_complete_at)
    return min(upcoming) if upcoming else None
