"""Sends a rendered e-mail through SES as one MIME message: ``multipart/alternative`` with the plain-text part
first and the HTML part second (mail clients show the last part they can display); with attachments (a calendar
invite), that ``multipart/alternative`` is the first part of a ``multipart/mixed``.

``SendRawEmail`` rather than ``SendEmail``: SES builds the same MIME message from ``SendEmail``'s Html and Text,
but this way the exact bytes sent are ours, and moto (the local stack and the unit tests) keeps them whole,
where its ``SendEmail`` keeps only the HTML body.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from email.message import EmailMessage
from email.policy import SMTP

from coursepay import aws_clients
from coursepay.correlation import EMAIL_HEADER, current_correlation_id
from coursepay.notifications.rendering import RenderedEmail


@dataclass(frozen=True)
class Attachment:
    filename: str
    content_type: str  # text/<subtype>: the attachments coursepay sends are text (a calendar invite)
    content: str
    params: tuple[tuple[str, str], ...] = ()  # more Content-Type parameters, e.g. ("method", "REQUEST")


def mime_message(sender: str, to: str, email: RenderedEmail, attachments: Sequence[Attachment] = (),
                 correlation_id: str | None = None) -> bytes:
    message = EmailMessage(policy=SMTP)
    message["Subject"] = email.subject
    message["From"] = sender
    message["To"] = to
    if correlation_id:
        # which purchase (request, Stripe event) this e-mail came from: support finds its logs with it
        message[EMAIL_HEADER] = correlation_id
    # quoted-printable keeps the message 7-bit ASCII, as SES wants raw messages (names, €, ¥ are not)
    message.set_content(email.text, cte="quoted-printable")
    message.add_alternative(email.html, subtype="html", cte="quoted-printable")
    for attachment in attachments:
        maintype, subtype = attachment.content_type.split("/", 1)
        assert maintype == "text", "only text attachments"
        message.add_attachment(attachment.content, subtype=subtype, cte="base64", filename=attachment.filename,
                               params=dict(attachment.params))
    return message.as_bytes()


class Mailer:
    def __init__(self, sender: str) -> None:
        self._sender = sender

    @property
    def sender(self) -> str:
        return self._sender

    def send(self, to: str, email: RenderedEmail, attachments: Sequence[Attachment] = ()) -> str:
        """Sends ``email`` to ``to``; returns SES's message id."""
        # No Destinations: SES sends to the message's To header, the one place the recipient is written.
        raw = mime_message(self._sender, to, email, attachments, current_correlation_id())
        response = aws_clients.ses().send_raw_email(Source=self._sender, RawMessage={"Data": raw})
        return response["MessageId"]
