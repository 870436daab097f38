"""What the meetings consumer does per event type: ``booking.paid`` -> the booking's meeting
(coursepay.meetings.service)."""

from __future__ import annotations

from coursepay.bookings.booking_repository import BookingsRepository
from coursepay.bookings.events import BOOKING_PAID
from coursepay.consumers.runner import EventConsumer
from coursepay.events.publisher import EventPublisher
from coursepay.meetings.providers import meeting_provider
from coursepay.meetings.service import MeetingService
from coursepay.meetings.settings import MeetingsSettings
from coursepay.settings import load_settings
from coursepay.storage.audit import AuditTrail
from coursepay.storage.idempotency import IdempotencyStore

CONSUMER_NAME = "meetings"


def build_consumer() -> EventConsumer:
    settings = load_settings(MeetingsSettings)
    service = MeetingService(meeting_provider(settings), BookingsRepository(settings.bookings_table),
                             EventPublisher(settings.event_bus_name), AuditTrail(settings.audit_table))
    return EventConsumer(CONSUMER_NAME, IdempotencyStore(settings.idempotency_table),
                         {BOOKING_PAID: service.on_booking_paid})
