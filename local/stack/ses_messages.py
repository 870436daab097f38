"""Every e-mail moto's SES backends accepted in this process, as plain dicts: what the outbox serves (run in the
moto process, ``local.stack.aws_server``) and what unit tests read (moto in-process).

A message sent with ``SendRawEmail`` (coursepay's mailer: one MIME message with a plain-text and an HTML part)
is parsed: ``subject``, ``body`` (the plain-text part), ``html`` (the HTML part), ``attachments`` (each
``{filename, content_type, params, content}``: a calendar invite is ``text/calendar`` with ``method``) and
``correlation_id`` (the ``X-Correlation-ID`` header: the purchase it came from). For ``SendEmail`` moto keeps
one body only (the HTML one when both are given), shown as ``body`` with ``html`` None.
"""

from __future__ import annotations

import email
from email.message import EmailMessage, MIMEPart
from email.policy import default as default_policy
from typing import Any, cast

_KEPT_AS_IS = ("template", "template_data")


def sent_messages(parsed: dict[str, dict[str, Any]] | None = None) -> list[dict[str, Any]]:
    """Oldest first, as SES accepted them. ``parsed``: entries already made, by message id (a sent message never
    changes), so a reader polling the outbox parses each MIME message once, not once per read."""
    from moto.ses.models import ses_backends

    messages: list[dict[str, Any]] = []
    for account_id, regions in ses_backends.items():
        for region, backend in regions.items():
            for message in backend.sent_messages:
                if parsed is not None and message.id in parsed:
                    messages.append(parsed[message.id])
                    continue
                entry: dict[str, Any] = {"id": message.id, "account_id": account_id, "region": region,
                                         "source": message.source, "destinations": message.destinations,
                                         "to": recipients(message.destinations)}
                if hasattr(message, "raw_data"):
                    entry.update(parse_mime(message.raw_data))
                else:
                    entry.update({"subject": getattr(message, "subject", None),
                                  "body": getattr(message, "body", None), "html": None, "attachments": []})
                entry.update({name: getattr(message, name) for name in _KEPT_AS_IS if hasattr(message, name)})
                if parsed is not None:
                    parsed[message.id] = entry
                messages.append(entry)
    return messages


def recipients(destinations: Any) -> list[str]:
    """``SendEmail`` keeps ``{"ToAddresses": [...], ...}``, ``SendRawEmail`` a list of addresses."""
    if isinstance(destinations, dict):
        return [address for addresses in destinations.values() for address in addresses or []]
    return [str(address) for address in destinations or []]


def parse_mime(raw: str) -> dict[str, Any]:
    parsed = cast(EmailMessage, email.message_from_string(raw, policy=default_policy))  # that policy's class
    text, html = parsed.get_body(("plain",)), parsed.get_body(("html",))
    attachments = [{"filename": part.get_filename(), "content_type": part.get_content_type(),
                    "params": {key: value for key, value in part.get_params() or [] if value},
                    "content": _content(part)} for part in parsed.iter_attachments()]
    return {"subject": parsed["Subject"], "body": _content(text), "html": _content(html), "attachments": attachments,
            "correlation_id": parsed["X-Correlation-ID"]}


def _content(part: MIMEPart | None) -> str | None:
    # Line ends as written, not the transport's CRLF (a calendar attachment keeps its own: RFC 5545 wants CRLF).
    if part is None:
        return None
    content = str(part.get_content())
    return content if part.get_content_type() == "text/calendar" else content.replace("\r\n", "\n")
