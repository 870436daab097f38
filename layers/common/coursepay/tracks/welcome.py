"""The welcome e-mail of a track enrollment (the notifications consumer's handlers), sent through SES.

For an account created by payment-first sign-up (Cognito status FORCE_CHANGE_PASSWORD: nobody has signed in
yet) this handler sets a fresh *temporary* password (AdminSetUserPassword, Permanent=false) right before
sending, and the e-mail is the only place it is written: Cognito forces a new password at the first sign-in
and lets the temporary one expire after the pool's TemporaryPasswordValidityDays. Accounts that already have a
password get the same e-mail without credentials. See docs/decisions.md D5.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from botocore.exceptions import ClientError

from coursepay import aws_clients
from coursepay.accounts.repository import AccountsRepository
from coursepay.events.handlers import EnvelopeHandler
from coursepay.errors import NotFound
from coursepay.events.envelope import Envelope
from coursepay.observability import logger
from coursepay.settings import load_settings
from coursepay.tracks.credentials import TEMPORARY_PASSWORD_VALIDITY_DAYS, temporary_password
from coursepay.tracks.events import TRACK_ENROLLED, TRACK_WITHDRAWN, TrackEnrolled, TrackWithdrawn
from coursepay.tracks.settings import TrackNotificationsSettings

if TYPE_CHECKING:
    from coursepay.settings import NotificationsSettings

NEEDS_NEW_PASSWORD = "FORCE_CHANGE_PASSWORD"


class TrackMailer:
    def __init__(self, accounts: AccountsRepository, user_pool_id: str, sender: str) -> None:
        self._accounts = accounts
        self._pool = user_pool_id
        self._sender = sender

    def _recipient(self, user_id: str) -> tuple[str, str]:
        profile = self._accounts.get_profile(user_id)
        if profile is None:
            raise NotFound(f"no profile for user {user_id}")  # retried: the profile is written before the event
        return profile.email, profile.name

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

    def _send(self, to: str, subject: str, text: str) -> None:
        aws_clients.ses().send_email(Source=self._sender, Destination={"ToAddresses": [to]},
                                     Message={"Subject": {"Data": subject, "Charset": "UTF-8"},
                                              "Body": {"Text": {"Data": text, "Charset": "UTF-8"}}})

    def on_enrolled(self, envelope: Envelope) -> None:
        event = TrackEnrolled.model_validate(envelope.data)
        email, name = self._recipient(event.user_id)
        password = self._issue_temporary_password(email)
        if password:
            sign_in = (f"Sign in with your e-mail address {email} and this temporary password:\n\n"
                       f"    {password}\n\n"
                       f"It expires after {TEMPORARY_PASSWORD_VALIDITY_DAYS} days and works once: at your first "
                       "sign-in you choose your own password.")
        else:
            sign_in = f"Sign in with your e-mail address {email} and your existing password."
        tools = "\n".join(f"  - {tool.name}" for tool in event.tools) or "  (none)"
        text = (f"Hello {name},\n\nwelcome to the {event.track_name} track - your payment was received and you are "
                f"enrolled.\n\n{sign_in}\n\nYour first project, \"{event.first_project}\", is unlocked. Your tools "
                f"are being set up and appear on your dashboard:\n{tools}\n\nHappy learning!\n")
        self._send(email, f"Welcome to {event.track_name}", text)
        logger.info("welcome e-mail sent", user_id=event.user_id, track_id=event.track_id,
                    with_temporary_password=password is not None)

    def on_withdrawn(self, envelope: Envelope) -> None:
        event = TrackWithdrawn.model_validate(envelope.data)
        email, name = self._recipient(event.user_id)
        self._send(email, f"Your {event.track_name} enrollment has ended",
                   f"Hello {name},\n\nyour payment for the {event.track_name} track was refunded in full, so your "
                   "enrollment and its tools have been withdrawn.\n")


def handlers(settings: NotificationsSettings) -> dict[str, EnvelopeHandler]:
    """Registered in coursepay.consumers.notifications.handlers()."""
    track_settings = load_settings(TrackNotificationsSettings)
    mailer = TrackMailer(AccountsRepository(settings.accounts_table), track_settings.user_pool_id,
                         settings.email_sender)
    return {TRACK_ENROLLED: mailer.on_enrolled, TRACK_WITHDRAWN: mailer.on_withdrawn}
