"""The calendar invite of a booked session (RFC 5545, built with ``icalendar``): ``METHOD:REQUEST`` with one
VEVENT whose ``UID`` is the booking's (a calendar that receives it twice keeps one entry), the session's start
and end in UTC, the meeting link as location and URL, both participants as attendees and coursepay's sender
address as organizer. Sent as a ``text/calendar; method=REQUEST`` attachment (``invite.ics``).

The host link (Zoom's start URL) is never in it: the invite goes to both participants.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from coursepay.meetings.booking_events import BookedSession
from coursepay.notifications.mailer import Attachment
from coursepay.notifications.recipients import Recipient

if TYPE_CHECKING:
    from icalendar import vCalAddress

PRODUCT_ID = "-//coursepay//bookings//EN"
INVITE_FILENAME = "invite.ics"
INVITE_CONTENT_TYPE = "text/calendar"


def invite_uid(booking_id: str) -> str:
    return f"booking-{booking_id}@coursepay"


def _attendee(person: Recipient) -> vCalAddress:
    from icalendar import vCalAddress, vText

    address = vCalAddress(f"mailto:{person.email}")
    address.params["cn"] = vText(person.name)
    address.params["role"] = vText("REQ-PARTICIPANT")
    address.params["partstat"] = vText("ACCEPTED")  # both agreed to the session: confirmed and paid
    return address


def calendar_invite(booking: BookedSession, join_url: str, *, organizer: str, attendees: list[Recipient],
                    stamped_at: str) -> Attachment:
    """``stamped_at``: the event's ``occurred_at`` (DTSTAMP), so the same event gives the same invite."""
    # imported here: the notifications function builds every handler at its cold start, and icalendar (0.1 s
    # or more, python -X importtime) is needed only by the meeting e-mails
    from icalendar import Calendar, Event, vCalAddress, vText

    event = Event()
    event.add("uid", invite_uid(booking.booking_id))
    event.add("dtstamp", datetime.fromisoformat(stamped_at))
    event.add("dtstart", datetime.fromisoformat(booking.start))
    event.add("dtend", datetime.fromisoformat(booking.end))
    event.add("summary", f"{booking.gig_title} (coursepay session)")
    event.add("description", f"Join the session: {join_url}\nBooking {booking.booking_id}")
    event.add("location", join_url)
    event.add("url", join_url)
    event.add("status", "CONFIRMED")
    event.add("sequence", 0)
    sender = vCalAddress(f"mailto:{organizer}")
    sender.params["cn"] = vText("coursepay")
    event.add("organizer", sender)
    for person in attendees:
        event.add("attendee", _attendee(person), encode=False)
    calendar = Calendar()
    calendar.add("prodid", PRODUCT_ID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "REQUEST")
    calendar.add_component(event)
    return Attachment(INVITE_FILENAME, INVITE_CONTENT_TYPE, calendar.to_ical().decode(), (("method", "REQUEST"),))
