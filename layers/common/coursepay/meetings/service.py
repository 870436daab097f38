"""``booking.paid`` -> the booking's meeting, created once, then ``booking.meeting_created``.

Once: the booking's ``meeting`` field is written only while it is empty (the booking repository's
``transition``, conditional on the version read). A redelivered ``booking.paid`` (or one after a crash past
the write) finds the meeting and creates none; two workers racing keep the first meeting written and the loser
discards its own (a Zoom meeting nobody would use). What is left: a crash between the provider's answer and the
write leaves one unused meeting at the provider (Zoom has no idempotency key; the default provider's room is the
same one anyway).

The event is published on every delivery that finds the meeting set, not only by the write that set it: a crash
between the write and the publish must not lose it, and its id is deterministic
(``ev_booking_<id>_booking.meeting_created``), so the e-mails downstream happen once.
"""

from __future__ import annotations

from coursepay.bookings.booking_repository import BookingsRepository
from coursepay.bookings.bookings import Booking
from coursepay.bookings.events import BOOKING_MEETING_CREATED, booking_envelope
from coursepay.errors import ConditionFailed, Conflict, NotFound
from coursepay.events.envelope import Envelope
from coursepay.events.publisher import EventPublisher
from coursepay.meetings.booking_events import BookedSession
from coursepay.meetings.interface import Meeting, MeetingProvider, MeetingSlot
from coursepay.observability import logger
from coursepay.storage.audit import AuditEntry, AuditTrail

MEETING_STATUS = "confirmed"  # a paid booking that is still going to happen
MAX_WRITE_ATTEMPTS = 3


class MeetingService:
    def __init__(self, provider: MeetingProvider, bookings: BookingsRepository, publisher: EventPublisher,
                 audit: AuditTrail) -> None:
        self._provider = provider
        self._bookings = bookings
        self._publisher = publisher
        self._audit = audit

    def on_booking_paid(self, envelope: Envelope) -> None:
        paid = BookedSession.model_validate(envelope.data)
        booking = self._meeting_for(paid.booking_id, envelope)
        if booking is None:
            return
        self._publisher.publish([booking_envelope(booking, BOOKING_MEETING_CREATED,
                                                  correlation_id=envelope.correlation_id or envelope.id)])

    def _meeting_for(self, booking_id: str, envelope: Envelope) -> Booking | None:
        """The booking with its meeting (made now or earlier), or None when it no longer needs one."""
        created: Meeting | None = None
        for _ in range(MAX_WRITE_ATTEMPTS):
            booking = self._bookings.get(booking_id)
            if booking is None:  # the booking is written before its events: retried, then the DLQ
                raise NotFound(f"booking {booking_id} not found")
            if booking.meeting is not None:
                if created is not None and booking.meeting != created:
                    self._provider.discard_meeting(created)  # lost the race: the booking keeps the other one
                return booking
            if booking.status != MEETING_STATUS or booking.payment_status != "paid":
                logger.info("no meeting for a booking that is not paid and confirmed", booking_id=booking_id,
                            status=booking.status, payment_status=booking.payment_status)
                if created is not None:  # cancelled while we were creating it
                    self._provider.discard_meeting(created)
                return None
            if created is None:
                created = self._provider.create_meeting(MeetingSlot.model_validate(booking.model_dump()))
            try:
                written = self._bookings.transition(booking_id, {MEETING_STATUS}, {"meeting": created.model_dump()},
                                                    expected_version=booking.version)
            except ConditionFailed:
                continue  # written meanwhile (a meeting, or another change): read again
            self._audit.record(AuditEntry(entity=f"booking#{booking_id}", action="booking.meeting_created",
                                          actor=f"event:{envelope.id}", before={"meeting": None},
                                          after={"meeting": created.model_dump(exclude={"host_url"})}))
            logger.info("meeting created", booking_id=booking_id, provider=created.provider)
            return written
        # the booking kept changing under us: let SQS bring the message back
        raise Conflict(f"booking {booking_id} changed {MAX_WRITE_ATTEMPTS} times while its meeting was written")
