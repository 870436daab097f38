"""``booking.paid`` -> the booking's meeting, created once, then ``booking.meeting_created``.

Once: the booking's ``meeting`` field is written only while it is empty (a conditional write on the version
read). A redelivered ``booking.paid`` (or one after a crash past the write) finds the meeting and creates none;
two workers racing keep the first meeting written and the loser discards its own (a Zoom meeting nobody would
use). What is left: a crash between the provider's answer and the write leaves one unused meeting at the
provider (Zoom has no idempotency key; the default provider's room is the same one anyway).

The event is published on every delivery that finds the meeting set, not only by the write that set it: a crash
between the write and the publish must not lose it, and its id is deterministic
(``ev_booking_<id>_booking.meeting_created``), so the e-mails downstream happen once.
"""

from __future__ import annotations

from typing import Any

from coursepay.errors import Conflict, NotFound
from coursepay.events.envelope import Envelope
from coursepay.events.publisher import EventPublisher
from coursepay.meetings.booking_events import BOOKING_MEETING_CREATED, BookedSession, booking_envelope
from coursepay.meetings.booking_records import BookingMeetingRecords, public_view
from coursepay.meetings.interface import Meeting, MeetingProvider, MeetingSlot
from coursepay.observability import logger
from coursepay.storage.audit import AuditEntry, AuditTrail

MEETING_STATUSES = frozenset({"confirmed"})  # a paid booking that is still going to happen
MAX_WRITE_ATTEMPTS = 3


class MeetingService:
    def __init__(self, provider: MeetingProvider, records: BookingMeetingRecords, publisher: EventPublisher,
                 audit: AuditTrail) -> None:
        self._provider = provider
        self._records = records
        self._publisher = publisher
        self._audit = audit

    def on_booking_paid(self, envelope: Envelope) -> None:
        paid = BookedSession.model_validate(envelope.data)
        item = self._meeting_for(paid.booking_id, envelope)
        if item is None:
            return
        self._publisher.publish([booking_envelope(BOOKING_MEETING_CREATED, public_view(item),
                                                  correlation_id=envelope.correlation_id or envelope.id)])

    def _meeting_for(self, booking_id: str, envelope: Envelope) -> dict[str, Any] | None:
        """The booking item with its meeting (made now or earlier), or None when it no longer needs one."""
        created: Meeting | None = None
        for _ in range(MAX_WRITE_ATTEMPTS):
            item = self._records.get(booking_id)
            if item is None:  # the booking is written before its events: retried, then the DLQ
                raise NotFound(f"booking {booking_id} not found")
            if item.get("meeting"):
                if created is not None and Meeting.model_validate(item["meeting"]) != created:
                    self._provider.discard_meeting(created)  # lost the race: the booking keeps the other one
                return item
            if item.get("status") not in MEETING_STATUSES or item.get("payment_status") != "paid":
                logger.info("no meeting for a booking that is not paid and confirmed", booking_id=booking_id,
                            status=item.get("status"), payment_status=item.get("payment_status"))
                if created is not None:  # cancelled while we were creating it
                    self._provider.discard_meeting(created)
                return None
            if created is None:
                created = self._provider.create_meeting(MeetingSlot.model_validate(item))
            written = self._records.attach_meeting(booking_id, created, int(item.get("version", 0)))
            if written is not None:
                self._audit.record(AuditEntry(entity=f"booking#{booking_id}", action="booking.meeting_created",
                                              actor=f"event:{envelope.id}", before={"meeting": None},
                                              after={"meeting": created.model_dump(exclude={"host_url"})}))
                logger.info("meeting created", booking_id=booking_id, provider=created.provider)
                return written
        # the booking kept changing under us: let SQS bring the message back
        raise Conflict(f"booking {booking_id} changed {MAX_WRITE_ATTEMPTS} times while its meeting was written")
