"""The account e-mails with a single-use link: e-mail verification and password reset (templates
``account_verify_email`` and ``account_password_reset`` of ``coursepay.notifications``, sent through SES).

They are sent by the accounts function itself, in the request that issues the link: the token then exists only
in this process and in the one e-mail (never on the bus, in a table or in a log). Cognito's own ForgotPassword /
SignUp e-mails are not used: see docs/decisions.md D4.
"""

from __future__ import annotations

from coursepay.accounts.settings import AccountLinkSettings
from coursepay.notifications.mailer import Mailer
from coursepay.notifications.rendering import render
from coursepay.observability import logger

RESET_LINK_SECONDS = 3600
VERIFY_LINK_SECONDS = 24 * 3600
SET_PASSWORD_LINK_SECONDS = 72 * 3600  # the payment-first welcome e-mail's link


def link_to(page_url: str, token: str) -> str:
    """The frontend page with the token (``token_urlsafe`` needs no escaping)."""
    return f"{page_url}?token={token}"


class AccountMail:
    def __init__(self, settings: AccountLinkSettings, mailer: Mailer | None = None) -> None:
        self._settings = settings
        self._mailer = mailer or Mailer(settings.email_sender)

    def password_reset(self, email: str, name: str, token: str) -> None:
        self._send(email, "account_password_reset", "Reset your coursepay password", user_name=name, email=email,
                   link=link_to(self._settings.set_password_page_url, token), valid_hours=RESET_LINK_SECONDS // 3600)

    def verify_email(self, email: str, name: str, token: str) -> None:
        self._send(email, "account_verify_email", "Confirm your e-mail address", user_name=name, email=email,
                   link=link_to(self._settings.verify_email_page_url, token), valid_hours=VERIFY_LINK_SECONDS // 3600)

    def _send(self, to: str, template: str, subject: str, **context: object) -> None:
        message_id = self._mailer.send(to, render(template, subject, **context))
        logger.info("account e-mail sent", template=template, ses_message_id=message_id)
