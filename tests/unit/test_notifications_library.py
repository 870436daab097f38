"""The e-mail library on its own: amounts per currency, the template set, strict rendering, the MIME message."""

from __future__ import annotations

import email
from email.policy import default as default_policy
from importlib.resources import files

import pytest
from jinja2 import UndefinedError
from pydantic import ValidationError

from coursepay.notifications.mailer import mime_message
from coursepay.notifications.money import format_amount, minor_unit_exponent
from coursepay.notifications.rendering import RenderedEmail, render
from coursepay.notifications.settings import BillingNotificationsSettings

NBSP = "\u00a0"


@pytest.mark.parametrize(("amount", "currency", "written"), [
    (1500, "usd", "$15.00"),
    (5, "usd", "$0.05"),
    (1500, "jpy", "¥1,500"),  # zero-decimal: 1500 yen
    (0, "clp", f"CLP{NBSP}0"),
    (1500, "eur", "€15.00"),
    (1500, "kwd", f"KWD{NBSP}1.500"),  # three-decimal: 1.5 dinar
    (1, "bhd", f"BHD{NBSP}0.001"),
    (123456789, "chf", f"CHF{NBSP}1,234,567.89"),
    (9900, "CAD", "CA$99.00"),
    (100000000, "krw", "₩100,000,000"),
])
def test_amounts_in_minor_units_are_written_per_currency(amount, currency, written):
    assert format_amount(amount, currency) == written


def test_the_minor_unit_exponent_follows_iso_4217():
    assert [minor_unit_exponent(c) for c in ("usd", "eur", "jpy", "krw", "kwd", "tnd", "clf")] == [2, 2, 0, 0, 3, 3, 4]


def test_every_message_has_an_html_and_a_text_template():
    templates = files("coursepay.notifications") / "templates"
    names = [entry.name for entry in templates.iterdir() if not entry.name.startswith("_")]
    stems = {name.rsplit(".", 1)[0] for name in names}
    assert "receipt" in stems
    assert sorted(names) == sorted(f"{stem}.{ext}" for stem in stems for ext in ("html", "txt"))


def test_a_variable_the_caller_did_not_pass_is_an_error_not_a_blank():
    with pytest.raises(UndefinedError):
        render("receipt", "Your receipt", purchase="one_time", amount=1500, currency="usd")


def test_the_mime_message_is_plain_text_then_html_in_7_bit_ascii():
    raw = mime_message("no-reply@example.com", "zoe@example.com",
                       RenderedEmail(subject="Reçu: ¥1,500", html="<p>Zoë paid ¥1,500</p>", text="Zoë paid ¥1,500\n"))
    assert raw.isascii()
    parsed = email.message_from_bytes(raw, policy=default_policy)
    assert parsed.get_content_type() == "multipart/alternative"
    assert [part.get_content_type() for part in parsed.iter_parts()] == ["text/plain", "text/html"]
    assert (parsed["Subject"], parsed["From"], parsed["To"]) == ("Reçu: ¥1,500", "no-reply@example.com",
                                                                 "zoe@example.com")
    plain, html = parsed.iter_parts()
    assert plain.get_content().replace("\r\n", "\n") == "Zoë paid ¥1,500\n"
    assert "<p>Zoë paid ¥1,500</p>" in html.get_content()


def test_the_admin_address_must_be_an_email_address():
    common = {"idempotency_table": "t", "accounts_table": "a", "email_sender": "no-reply@example.com"}
    assert BillingNotificationsSettings.model_validate(
        {**common, "admin_notification_email": " Admins@Example.com "}).admin_notification_email == "admins@example.com"
    with pytest.raises(ValidationError):
        BillingNotificationsSettings.model_validate({**common, "admin_notification_email": "not-an-address"})
