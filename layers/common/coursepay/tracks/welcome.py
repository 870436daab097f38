"""The e-mails of a track enrollment (the notifications consumer's handlers): the welcome e-mail, and the notice
of a withdrawal that no refund e-mail already announced. Templates ``track_welcome`` and ``track_withdrawn``
(``coursepay.notifications``), sent through SES.

For an account created by payment-first sign-up (Cognito status FORCE_CHANGE_PASSWORD: nobody has signed in
yet) this handler sets a fresh *temporary* password (AdminSetUserPassword, Permanent=false) right before
sending, and the e-mail is the only place it is written: Cognito forces a new password at the first sign-in
and lets the temporary one expire after the pool's TemporaryPasswordValidityDays. Accounts that already have a
password get the same e-mail without credentials. See docs/decisions.md D5.

A withdrawal because of a refund sends nothing here: the billing core's ``payment.refunded`` (full) e-mail
says that the enrollment and its tools are withdrawn, with the amounts (``coursepay.notifications
.refund_notices``), so one refund makes one e-mail. Other withdrawals (a lost dispute) get this notice.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from botocore.exceptions import ClientError

from coursepay import aws_clients
from coursepay.accounts.repository import AccountsRepository
from coursepay.errors import NotFound
from coursepay.events.envelope import Envelope
from coursepay.notifications.mailer import Mailer
from coursepay.notifications.postbox import Postbox
from coursepay.notifications.recipients import Recipients
from coursepay.observability import logger
from coursepay.settings import load_settings
from coursepay.tracks.credentials import TEMPORARY_PASSWORD_VALIDITY_DAYS, temporary_password
from coursepay.tracks.events import TRACK_ENROLLED, TRACK_WITHDRAWN, TrackEnrolled, TrackWithdrawn
from coursepay.tracks.settings import TrackNotificationsSettings

if TYPE_CHECKING:
    from coursepay.events.handlers import EnvelopeHandler
    from coursepay.settings import NotificationsSettings

NEEDS_NEW_PASSWORD = "FORCE_CHANGE_PASSWORD"
REFUNDED = "refunded"  # TrackWithdrawn.reason of a withdrawal that a full refund caused


class TrackMailer:
    def __init__(self, postbox: Postbox, user_pool_id: str) -> None:
        self._postbox = postbox
        self._pool = user_pool_id

    def _issue_temporary_password(self, email: str) -> str | None:
        """A fresh temporary password if the account has never been signed into, else None."""
        cognito = aws_clients.cognito()
        try:
            status = cognito.admin_get_user(UserPoolId=self._pool, Username=email).get("UserStatus")
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") == "UserNotFoundException":
                raise NotFound(f"no Cognito user {email}") from error
            raise
        if status != NEEDS_NEW_PASSWORD:
            return None
        password = temporary_password()
        cognito.admin_set_user_password(UserPoolId=self._pool, Username=email, Password=password, Permanent=False)
        return password

    def on_enrolled(self, envelope: Envelope) -> None:
        event = TrackEnrolled.model_validate(envelope.data)
        recipient = self._postbox.recipients.of(event.user_id)
        password = self._issue_temporary_password(recipient.email)
        self._postbox.send(recipient.email, "track_welcome", f"Welcome to {event.track_name}", recipient=recipient,
                           track_name=event.track_name, temporary_password=password,
                           password_validity_days=TEMPORARY_PASSWORD_VALIDITY_DAYS,
                           first_project=event.first_project, tools=[tool.name for tool in event.tools])
        logger.info("welcome e-mail sent", user_id=event.user_id, track_id=event.track_id,
                    with_temporary_password=password is not None)

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
    mailer = TrackMailer(postbox, track_settings.user_pool_id)
    return {TRACK_ENROLLED: mailer.on_enrolled, TRACK_WITHDRAWN: mailer.on_withdrawn}
