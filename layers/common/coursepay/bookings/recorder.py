"""Every state change of a booking is audited and published as its domain event, in that order, after the
conditional write that made it (the write decides who won; a lost race records nothing)."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from coursepay.bookings.bookings import Booking, public_view
from coursepay.bookings.events import booking_envelope
from coursepay.events.envelope import Envelope
from coursepay.storage.audit import AuditEntry, AuditTrail

Publish = Callable[[Sequence[Envelope]], None]


class BookingRecorder:
    def __init__(self, audit: AuditTrail, publish: Publish) -> None:
        self._audit = audit
        self._publish = publish

    def record(self, event_type: str, after: Booking, *, actor: str, before: Booking | None = None,
               correlation_id: str | None = None, publish: bool = True) -> None:
        """``event_type`` (``booking.confirmed``...) names both the audit action and the event (``publish=False``:
        a change audited only, such as a reported problem, which has no event of the contract)."""
        self._audit.record(AuditEntry(entity=f"booking#{after.booking_id}", action=event_type, actor=actor,
                                      before=public_view(before) if before else None, after=public_view(after)))
        if publish:
            self._publish([booking_envelope(after, event_type, correlation_id=correlation_id)])
