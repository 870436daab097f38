"""The tutoring bookings' e-mails (source ``coursepay.bookings``), each once per recipient:

| event | to | template |
|---|---|---|
| ``booking.requested`` | teacher | ``booking_requested`` (answer by ``respond_by``) |
| ``booking.confirmed`` | student | ``booking_confirmed`` (pay by ``payment_due``) |
| ``booking.declined`` | student | ``booking_declined`` |
| ``booking.paid`` | student | ``booking_receipt`` (the payment receipt: base, fee, total) |
| ``booking.meeting_created`` | both | ``booking_meeting``: the link (the teacher's host link too), the .ics invite |
| ``booking.reminder_due`` | both | ``booking_reminder`` |
| ``booking.cancelled`` / ``booking.expired`` | both | ``booking_cancelled`` / ``booking_expired`` |
| ``booking.refunded`` | student | ``booking_refunded`` |

The link goes out on ``booking.meeting_created``, not ``booking.paid``: only then does the meeting exist.
Once: the consumer claims the event id; an event that mails both participants claims each recipient too
(``notifications#<event id>#<role>``), so a retry after the first of two sends fails resends neither the first.
Times are written in the gig's time zone (``coursepay.notifications.session_times``).
"""

from __future__ import annotations

from typing import Any, Literal

from coursepay.events.envelope import Envelope
from coursepay.meetings.booking_events import BookedSession
from coursepay.notifications.calendar_invite import calendar_invite
from coursepay.notifications.mailer import Attachment
from coursepay.notifications.postbox import Postbox
from coursepay.notifications.recipients import Recipient
from coursepay.notifications.session_times import local_time, moment_in, session_period
from coursepay.storage.idempotency import IdempotencyStore

Role = Literal["teacher", "student"]


def on_day(booking: BookedSession) -> str:
    """``Conversational German on 15 Dec 2026`` (the day in the gig's time zone): the subjects' words."""
    start = local_time(booking.start, booking.time_zone)
    return f"{booking.gig_title} on {start.day} {start:%b %Y}"


class BookingNotices:
    def __init__(self, postbox: Postbox, once: IdempotencyStore) -> None:
        self._postbox = postbox
        self._once = once

    # ---------------------------------------------------------------------------------------- per event
    def on_requested(self, envelope: Envelope) -> None:
        booking = BookedSession.model_validate(envelope.data)
        self._mail(envelope, booking, "teacher", "booking_requested",
                   f"New booking request: {on_day(booking)}",
                   respond_by=self._moment(booking, booking.respond_by))

    def on_confirmed(self, envelope: Envelope) -> None:
        booking = BookedSession.model_validate(envelope.data)
        self._mail(envelope, booking, "student", "booking_confirmed",
                   f"Confirmed: {on_day(booking)}",
                   payment_due=self._moment(booking, booking.payment_due))

    def on_declined(self, envelope: Envelope) -> None:
        booking = BookedSession.model_validate(envelope.data)
        self._mail(envelope, booking, "student", "booking_declined",
                   f"Your request for {booking.gig_title} was declined")

    def on_paid(self, envelope: Envelope) -> None:
        booking = BookedSession.model_validate(envelope.data)
        self._mail(envelope, booking, "student", "booking_receipt", f"Your receipt for {booking.gig_title}",
                   paid_on=envelope.occurred_at[:10])

    def on_meeting_created(self, envelope: Envelope) -> None:
        booking = BookedSession.model_validate(envelope.data)
        if booking.meeting is None:
            raise ValueError(f"{envelope.id}: booking.meeting_created without a meeting")
        people = self._participants(booking)
        invite = calendar_invite(booking, booking.meeting.join_url, organizer=self._postbox.sender,
                                 attendees=list(people.values()), stamped_at=envelope.occurred_at)
        self._mail_both(envelope, booking, people, "booking_meeting", f"Your session link: {on_day(booking)}",
                        attachments=(invite,))

    def on_reminder_due(self, envelope: Envelope) -> None:
        booking = BookedSession.model_validate(envelope.data)
        self._mail_both(envelope, booking, self._participants(booking), "booking_reminder",
                        f"Reminder: {on_day(booking)}")

    def on_cancelled(self, envelope: Envelope) -> None:
        booking = BookedSession.model_validate(envelope.data)
        self._mail_both(envelope, booking, self._participants(booking), "booking_cancelled",
                        f"Cancelled: {on_day(booking)}")

    def on_expired(self, envelope: Envelope) -> None:
        booking = BookedSession.model_validate(envelope.data)
        self._mail_both(envelope, booking, self._participants(booking), "booking_expired",
                        f"Expired: the request for {on_day(booking)}")

    def on_refunded(self, envelope: Envelope) -> None:
        booking = BookedSession.model_validate(envelope.data)
        refund = booking.refund_amount if booking.refund_amount is not None else booking.refunded_amount
        self._mail(envelope, booking, "student", "booking_refunded", f"Refund for {booking.gig_title}",
                   refund_amount=refund, full=booking.refunded_amount >= booking.total_amount)

    # ---------------------------------------------------------------------------------------- sending
    def _participants(self, booking: BookedSession) -> dict[str, Recipient]:
        return {"student": self._postbox.recipients.of(booking.student_id),
                "teacher": self._postbox.recipients.of(booking.teacher_id)}

    def _mail_both(self, envelope: Envelope, booking: BookedSession, people: dict[str, Recipient], template: str,
                   subject: str, *, attachments: tuple[Attachment, ...] = ()) -> None:
        """The same e-mail to the student and the teacher."""
        for role in ("student", "teacher"):
            self._mail(envelope, booking, role, template, subject, people=people, attachments=attachments)

    @staticmethod
    def _moment(booking: BookedSession, moment: str | None) -> str | None:
        return moment_in(moment, booking.time_zone) if moment else None

    def _mail(self, envelope: Envelope, booking: BookedSession, role: Role, template: str, subject: str, *,
              people: dict[str, Recipient] | None = None, attachments: tuple[Attachment, ...] = (),
              **context: Any) -> None:
        user_id = booking.teacher_id if role == "teacher" else booking.student_id
        other_id = booking.student_id if role == "teacher" else booking.teacher_id
        other = people["student" if role == "teacher" else "teacher"] if people else self._postbox.recipients.of(
            other_id)

        def send() -> None:
            self._postbox.send_to_user(user_id, template, subject, role=role, other=other, booking=booking,
                                       when=session_period(booking.start, booking.end, booking.time_zone),
                                       attachments=attachments, **context)

        self._once.run_once(f"notifications#{envelope.id}#{role}", send,
                            details={"consumer": "notifications", "event_type": envelope.type, "recipient": role})
