"""The notifications consumer's handlers for track progress events (``coursepay.tracks.events``)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from coursepay.accounts.repository import AccountsRepository
from coursepay.notifications.mailer import Mailer
from coursepay.notifications.postbox import Postbox
from coursepay.notifications.progress_notices import ProgressNotices
from coursepay.notifications.recipients import Recipients
from coursepay.tracks.events import TRACK_PROJECT_UNLOCKED

if TYPE_CHECKING:
    from coursepay.events.handlers import EnvelopeHandler
    from coursepay.settings import NotificationsSettings


def handlers(settings: NotificationsSettings) -> dict[str, EnvelopeHandler]:
    """Registered in coursepay.consumers.notifications.handlers()."""
    postbox = Postbox(Recipients(AccountsRepository(settings.accounts_table)), Mailer(settings.email_sender))
    return {TRACK_PROJECT_UNLOCKED: ProgressNotices(postbox).on_project_unlocked}
