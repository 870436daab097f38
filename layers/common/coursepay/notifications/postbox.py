"""Renders a notice and sends it to a user (looked up by id) or to an address (the admins)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from coursepay.notifications.mailer import Attachment, Mailer
from coursepay.notifications.recipients import Recipient, Recipients
from coursepay.notifications.rendering import render
from coursepay.observability import logger


class Postbox:
    def __init__(self, recipients: Recipients, mailer: Mailer) -> None:
        self.recipients = recipients
        self._mailer = mailer

    @property
    def sender(self) -> str:
        return self._mailer.sender

    def send(self, address: str, template: str, subject: str, /, *, attachments: Sequence[Attachment] = (),
             **context: Any) -> None:
        message_id = self._mailer.send(address, render(template, subject, **context), attachments)
        logger.info("e-mail sent", template=template, ses_message_id=message_id)

    def send_to_user(self, user_id: str, template: str, subject: str, /, **context: Any) -> Recipient:
        """Sends to the user's profile address; the template sees them as ``recipient``."""
        recipient = self.recipients.of(user_id)
        self.send(recipient.email, template, subject, recipient=recipient, **context)
        return recipient
