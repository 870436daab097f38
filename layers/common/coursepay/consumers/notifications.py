"""What the notifications consumer does per event type. Each later feature registers its e-mails here."""

from __future__ import annotations

from coursepay.consumers.runner import EventConsumer
from coursepay.events.handlers import EnvelopeHandler
from coursepay.settings import NotificationsSettings, load_settings
from coursepay.storage.idempotency import IdempotencyStore

CONSUMER_NAME = "notifications"


def handlers(settings: NotificationsSettings) -> dict[str, EnvelopeHandler]:
    from coursepay.notifications import billing_handlers as billing
    from coursepay.notifications import booking_handlers as bookings
    from coursepay.notifications import progress_handlers as progress
    from coursepay.tracks import welcome as tracks

    return {**tracks.handlers(settings), **billing.handlers(settings), **progress.handlers(settings),
            **bookings.handlers(settings)}


def build_consumer() -> EventConsumer:
    settings = load_settings(NotificationsSettings)
    return EventConsumer(CONSUMER_NAME, IdempotencyStore(settings.idempotency_table), handlers(settings))
