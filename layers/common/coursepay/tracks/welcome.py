"""The e-mails of a track enrollment (the notifications consumer's handlers): the welcome e-mail, and the notice
of a withdrawal that no refund e-mail already announced. Templates ``track_welcome`` and ``track_withdrawn``
(``coursepay.notifications``), sent through SES.

An account that has no usable password yet (made by payment-first sign-up) or whose e-mail was never verified
gets a single-use **set-password link** in its welcome e-mail, once per account however many purchases race
(``coursepay.accounts.invitations``); a later track's e-mail for that account points to that link. Accounts with
a password get the same e-mail without a link. No password is ever e-mailed. See docs/decisions.md D5.

A withdrawal because of a refund sends nothing here: the billing core's ``payment.refunded`` (full) e-mail
says that the enrollment and its tools are withdrawn, with the amounts (``coursepay.notifications
.refund_notices``), so one refund makes one e-mail. Other withdrawals (a lost dispute) get this notice.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from coursepay.accounts.identity import CognitoIdentity
from coursepay.accounts.invitations import LINK_VALIDITY_HOURS, SetPasswordInvitations
from coursepay.accounts.repository import AccountsRepository
from coursepay.accounts.tokens import AccountLinks
from coursepay.errors import NotFound
from coursepay.events.envelope import Envelope
from coursepay.notifications.mailer import Mailer
from coursepay.notifications.postbox import Postbox
from coursepay.notifications.recipients import Recipient, Recipients
from coursepay.observability import logger
from coursepay.settings import load_settings
from coursepay.storage.idempotency import IdempotencyStore
from coursepay.tracks.events import TRACK_ENROLLED, TRACK_WITHDRAWN, TrackEnrolled, TrackWithdrawn
from coursepay.tracks.settings import TrackNotificationsSettings

if TYPE_CHECKING:
    from coursepay.events.handlers import EnvelopeHandler
    from coursepay.settings import NotificationsSettings

REFUNDED = "refunded"  # TrackWithdrawn.reason of a withdrawal that a full refund caused


class TrackMailer:
    def __init__(self, postbox: Postbox, identity: CognitoIdentity, invitations: SetPasswordInvitations) -> None:
        self._postbox = postbox
        self._identity = identity
        self._invitations = invitations

    def on_enrolled(self, envelope: Envelope) -> None:
        event = TrackEnrolled.model_validate(envelope.data)
        recipient = self._postbox.recipients.of(event.user_id)
        state = self._identity.account_state(recipient.email)
        if state is None:
            raise NotFound(f"no Cognito user for {event.user_id}")  # retried: the account is made before the event
        if state.has_password and state.email_verified:
            self._welcome(event, recipient, set_password_url=None, invited=False)
            return
        sent_now = self._invitations.once(
            event.user_id, lambda link: self._welcome(event, recipient, set_password_url=link, invited=True))
        if not sent_now:  # another purchase's welcome carried the account's link
            self._welcome(event, recipient, set_password_url=None, invited=True)

    def _welcome(self, event: TrackEnrolled, recipient: Recipient, *, set_password_url: str | None,
                 invited: bool) -> None:
        self._postbox.send(recipient.email, "track_welcome", f"Welcome to {event.track_name}", recipient=recipient,
                           track_name=event.track_name, set_password_url=set_password_url, invited=invited,
                           link_validity_hours=LINK_VALIDITY_HOURS,
                           first_project=event.first_project, tools=[tool.name for tool in event.tools])
        logger.info("welcome e-mail sent", user_id=event.user_id, track_id=event.track_id,
                    with_set_password_link=set_password_url is not None)

    def on_withdrawn(self, envelope: Envelope) -> None:
        event = TrackWithdrawn.model_validate(envelope.data)
        if event.reason == REFUNDED:
            logger.info("withdrawal notice left to the refund e-mail", user_id=event.user_id,
                        track_id=event.track_id, payment_id=event.payment_id)
            return
        self._postbox.send_to_user(event.user_id, "track_withdrawn", f"Your {event.track_name} enrollment has ended",
                                   track_name=event.track_name, reason=event.reason)


def handlers(settings: NotificationsSettings) -> dict[str, EnvelopeHandler]:
    """Registered in coursepay.consumers.notifications.handlers()."""
    track_settings = load_settings(TrackNotificationsSettings)
    postbox = Postbox(Recipients(AccountsRepository(settings.accounts_table)), Mailer(settings.email_sender))
    invitations = SetPasswordInvitations(AccountLinks(settings.accounts_table),
                                         IdempotencyStore(settings.idempotency_table),
                                         track_settings.set_password_page_url)
    mailer = TrackMailer(postbox, CognitoIdentity(track_settings.user_pool_id, ""), invitations)
    return {TRACK_ENROLLED: mailer.on_enrolled, TRACK_WITHDRAWN: mailer.on_withdrawn}
