"""The outbox's reading of moto's SES (local.stack.ses_messages): each MIME message parsed once per reader, however
often the outbox is polled, and the parsed entry the same as a fresh parse (moto in-process)."""

from __future__ import annotations

from email.message import EmailMessage
from unittest import mock

from local.stack import ses_messages
from local.stack.ses_messages import sent_messages


def send(ses, to: str, subject: str) -> None:
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = "noreply@coursepay.local", to, subject
    message["X-Correlation-ID"] = "corr-1"
    message.set_content("plain words")
    message.add_alternative("<p>html words</p>", subtype="html")
    ses.send_raw_email(Source="noreply@coursepay.local", RawMessage={"Data": message.as_bytes()})


def test_each_message_is_parsed_once_per_reader_and_reads_as_a_fresh_parse(aws) -> None:
    ses = aws.session.client("ses", region_name="us-east-1")
    ses.verify_email_identity(EmailAddress="noreply@coursepay.local")
    send(ses, "ann@example.com", "First")
    cache: dict[str, dict] = {}
    with mock.patch.object(ses_messages, "parse_mime", wraps=ses_messages.parse_mime) as parse:
        first = sent_messages(cache)
        send(ses, "bob@example.com", "Second")
        second = sent_messages(cache)
        third = sent_messages(cache)
    assert parse.call_count == 2  # one per message, not one per message per read
    assert second == third == sent_messages()
    assert [m["subject"] for m in second] == ["First", "Second"]
    assert second[0] == first[0]
    assert (second[1]["to"], second[1]["body"].strip(), second[1]["correlation_id"]) == (
        ["bob@example.com"], "plain words", "corr-1")
