"""The notifications consumer's handlers for the tutoring bookings' events (source ``coursepay.bookings``):
coursepay.notifications.booking_notices."""

from __future__ import annotations

from typing import TYPE_CHECKING

from coursepay.accounts.repository import AccountsRepository
from coursepay.bookings import events as bookings
from coursepay.notifications.booking_notices import BookingNotices
from coursepay.notifications.mailer import Mailer
from coursepay.notifications.postbox import Postbox
from coursepay.notifications.recipients import Recipients
from coursepay.storage.idempotency import IdempotencyStore

if TYPE_CHECKING:
    from coursepay.events.handlers import EnvelopeHandler
    from coursepay.settings import NotificationsSettings


def handlers(settings: NotificationsSettings) -> dict[str, EnvelopeHandler]:
    """Registered in coursepay.consumers.notifications.handlers()."""
    postbox = Postbox(Recipients(AccountsRepository(settings.accounts_table)), Mailer(settings.email_sender))
    notices = BookingNotices(postbox, IdempotencyStore(settings.idempotency_table))
    return {
        bookings.BOOKING_REQUESTED: notices.on_requested,
        bookings.BOOKING_CONFIRMED: notices.on_confirmed,
        bookings.BOOKING_DECLINED: notices.on_declined,
        bookings.BOOKING_PAID: notices.on_paid,
        bookings.BOOKING_MEETING_CREATED: notices.on_meeting_created,
        bookings.BOOKING_REMINDER_DUE: notices.on_reminder_due,
        bookings.BOOKING_CANCELLED: notices.on_cancelled,
        bookings.BOOKING_EXPIRED: notices.on_expired,
        bookings.BOOKING_REFUNDED: notices.on_refunded,
    }
