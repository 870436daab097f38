"""The notifications function's money e-mails: billing envelopes (source coursepay.billing) in SQS batches,
through functions/notifications/app.py with its template.yaml environment, sent through moto's SES."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from pydantic import BaseModel

from coursepay.billing import events as billing
from coursepay.events.envelope import Envelope
from coursepay.tracks.events import ENROLLMENT_SOURCE, TRACK_WITHDRAWN, TrackWithdrawn
from tests.support.tracks import consume, sent_emails, sqs_event

SCRIPT = '<script>alert("x")</script>'


@pytest.fixture
def env(aws: Any) -> dict[str, str]:
    return aws.function_env("NotificationsFunction")


@pytest.fixture
def notifications(load_function: Any, aws: Any, env: dict[str, str]) -> Any:
    aws.client("ses").verify_email_identity(EmailAddress=env["EMAIL_SENDER"])
    return load_function("NotificationsFunction", "notifications")


@pytest.fixture
def buyer(aws: Any) -> dict[str, str]:
    return add_profile(aws, "Ada Buyer")


def add_profile(aws: Any, name: str, user_id: str | None = None) -> dict[str, str]:
    user_id = user_id or str(uuid.uuid4())
    email = f"buyer-{user_id[:8]}@example.com"
    aws.table("AccountsTable").put_item(Item={"pk": f"USER#{user_id}", "sk": "PROFILE", "user_id": user_id,
                                              "email": email, "name": name, "created_at": "2026-01-01T00:00:00Z"})
    return {"user_id": user_id, "email": email, "name": name}


def facts(user: dict[str, str], **overrides: Any) -> dict[str, Any]:
    return {"payment_id": "pi_3Qnotify0001", "user_id": user["user_id"], "kind": "course", "item_id": "crs_1",
            "item_name": "Robots with Python", "amount": 1500, "currency": "usd", **overrides}


def envelope(event_type: str, data: BaseModel, event_id: str | None = None) -> Envelope:
    return billing.billing_envelope(event_type, event_id or f"ev_{uuid.uuid4().hex}", data, None)


def deliver(module: Any, ctx: Any, *envelopes: Envelope) -> None:
    assert consume(module, ctx, *envelopes) == {"batchItemFailures": []}


def mail_to(address: str) -> dict[str, Any]:
    [mail] = [m for m in sent_emails() if m["to"] == [address]]
    return mail


def mail_after(module: Any, ctx: Any, event: Envelope, to: str) -> dict[str, Any]:
    """The one e-mail to ``to`` once ``event`` is delivered."""
    deliver(module, ctx, event)
    return mail_to(to)


# ------------------------------------------------------------------------------------------------ receipts
@pytest.mark.parametrize(("purchase", "says"), [
    ("one_time", "This was a one-time payment for"),
    ("subscription_start", "has started; it renews automatically"),
    ("renewal", "has been renewed"),
])
def test_every_successful_payment_gets_a_receipt(notifications, lambda_context, buyer, env, purchase, says):
    data = billing.PaymentSucceeded(**facts(buyer), purchase=purchase)
    mail = mail_after(notifications, lambda_context, envelope(billing.PAYMENT_SUCCEEDED, data), buyer["email"])
    assert mail["source"] == env["EMAIL_SENDER"]
    assert mail["subject"].startswith("Your receipt for Robots with Python")
    assert mail["subject"].endswith("(renewal)") == (purchase == "renewal")
    for part in (mail["body"], mail["html"]):
        assert says in part
        assert "Ada Buyer" in part
        assert "$15.00" in part
        assert "pi_3Qnotify0001" in part
    assert "<html" in mail["html"]
    assert "<html" not in mail["body"]


@pytest.mark.parametrize(("currency", "amount", "written"), [
    ("usd", 1500, "$15.00"), ("jpy", 1500, "¥1,500"), ("eur", 123456, "€1,234.56"), ("kwd", 1500, "KWD\u00a01.500"),
])
def test_amounts_are_written_per_currency(notifications, lambda_context, buyer, currency, amount, written):
    data = billing.PaymentSucceeded(**facts(buyer, amount=amount, currency=currency), purchase="one_time")
    mail = mail_after(notifications, lambda_context, envelope(billing.PAYMENT_SUCCEEDED, data), buyer["email"])
    assert f"Amount paid: {written}" in mail["body"]
    assert written in mail["html"]


def test_an_item_name_is_markup_escaped_in_html_and_intact_in_text(notifications, lambda_context, buyer):
    data = billing.PaymentSucceeded(**facts(buyer, item_name=SCRIPT), purchase="one_time")
    mail = mail_after(notifications, lambda_context, envelope(billing.PAYMENT_SUCCEEDED, data), buyer["email"])
    assert SCRIPT in mail["body"]
    assert SCRIPT in mail["subject"]
    assert "<script" not in mail["html"]
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in mail["html"]


# ------------------------------------------------------------------------------------------------ failures
def test_a_failed_renewal_asks_for_a_new_card_and_keeps_access_through_the_grace_period(notifications,
                                                                                         lambda_context, buyer):
    data = billing.PaymentFailed(**facts(buyer, payment_id="in_1Qrenewal"), purchase="renewal",
                                 failure_reason="card_declined: Your card was declined.")
    mail = mail_after(notifications, lambda_context, envelope(billing.PAYMENT_FAILED, data), buyer["email"])
    assert mail["subject"] == "Action needed: the renewal payment for Robots with Python failed"
    assert "update the card of your subscription" in mail["body"]
    assert "access continues through the grace period" in mail["body"]
    assert "card_declined: Your card was declined." in mail["body"]
    assert "another card" not in mail["body"]


@pytest.mark.parametrize(("kind", "purchase"), [("track", "one_time"), ("course", "one_time"),
                                                ("course", "subscription_start")])
def test_a_failed_purchase_says_to_try_another_card(notifications, lambda_context, buyer, kind, purchase):
    data = billing.PaymentFailed(**facts(buyer, kind=kind, item_name="Data Professional"), purchase=purchase,
                                 failure_reason="insufficient_funds: Your card has insufficient funds.")
    mail = mail_after(notifications, lambda_context, envelope(billing.PAYMENT_FAILED, data), buyer["email"])
    assert mail["subject"] == "Your payment for Data Professional did not go through"
    assert "try again with another card" in mail["body"]
    assert "insufficient_funds" in mail["body"]
    assert "insufficient_funds" in mail["html"]
    assert "grace period" not in mail["body"]


# ------------------------------------------------------------------------------------------------ refunds
def refunded(user: dict[str, str], *, refund: int, total: int, kind: str = "course", amount: int = 9900,
             duplicate_of: str | None = None) -> billing.PaymentRefunded:
    return billing.PaymentRefunded(**facts(user, kind=kind, amount=amount), refund_amount=refund,
                                   refunded_total=total, full=total >= amount, duplicate_of=duplicate_of)


def test_a_partial_refund_says_how_much_and_that_access_stays(notifications, lambda_context, buyer):
    data = refunded(buyer, refund=2000, total=3000)
    mail = mail_after(notifications, lambda_context, envelope(billing.PAYMENT_REFUNDED, data), buyer["email"])
    assert mail["subject"] == "Partial refund of $20.00: Robots with Python"
    body = mail["body"]
    assert "we refunded $20.00 of your payment for Robots with Python." in body
    assert "This refund: $20.00" in body
    assert "Refunded in total: $30.00" in body
    assert "Paid: $99.00" in body
    assert "You keep your access to Robots with Python." in body
    assert "You keep your access" in mail["html"]


@pytest.mark.parametrize(("kind", "subject", "access"), [
    ("course", "Refunded in full: your access to Robots with Python has ended",
     "Your access to Robots with Python has ended."),
    ("track", "Refunded in full: your Robots with Python enrollment has ended",
     "Your enrollment in Robots with Python and its tools have been withdrawn."),
])
def test_a_full_refund_says_access_ended(notifications, lambda_context, buyer, kind, subject, access):
    data = refunded(buyer, refund=6900, total=9900, kind=kind)
    mail = mail_after(notifications, lambda_context, envelope(billing.PAYMENT_REFUNDED, data), buyer["email"])
    assert mail["subject"] == subject
    assert "it is now refunded in full" in mail["body"]
    assert access in mail["body"]
    assert "This refund: $69.00" in mail["body"]
    assert "Refunded in total: $99.00" in mail["body"]


def test_refunding_a_duplicate_purchase_leaves_access_as_it_was(notifications, lambda_context, buyer):
    data = refunded(buyer, refund=9900, total=9900, duplicate_of="cs_first")
    mail = mail_after(notifications, lambda_context, envelope(billing.PAYMENT_REFUNDED, data), buyer["email"])
    assert mail["subject"] == "Refunded in full: Robots with Python"
    assert "through cs_first is unchanged" in mail["body"]
    assert "has ended" not in mail["body"]


def test_an_approved_refund_request_names_the_amount(notifications, lambda_context, buyer):
    data = billing.RefundRequestDecided(**facts(buyer, amount=49900, kind="track", item_name="Data Professional"),
                                        request_id="rr_1", approved_amount=9900)
    mail = mail_after(notifications, lambda_context, envelope(billing.REFUND_REQUEST_APPROVED, data), buyer["email"])
    assert mail["subject"] == "Your refund request for Data Professional was approved"
    assert "$99.00 will be refunded to the card you paid with" in mail["body"]
    assert "you get another e-mail once it has been processed" in mail["body"]
    assert "rr_1" in mail["html"]


def test_a_denied_refund_request_gives_the_admins_reason(notifications, lambda_context, buyer):
    reason = "The course was completed <b>in full</b> before the request"
    data = billing.RefundRequestDecided(**facts(buyer), request_id="rr_2", decision_reason=reason)
    mail = mail_after(notifications, lambda_context, envelope(billing.REFUND_REQUEST_DENIED, data), buyer["email"])
    assert mail["subject"] == "Your refund request for Robots with Python was not approved"
    assert f"The reason given: {reason}" in mail["body"]
    assert "The course was completed &lt;b&gt;in full&lt;/b&gt; before the request" in mail["html"]
    assert "Your purchase and your access are unchanged" in mail["body"]


def test_a_duplicate_purchase_refunded_automatically(notifications, lambda_context, buyer):
    data = billing.DuplicatePurchaseRefunded(**facts(buyer, payment_id="cs_second"), owned_through="cs_first")
    mail = mail_after(notifications, lambda_context, envelope(billing.DUPLICATE_PURCHASE_REFUNDED, data),
                      buyer["email"])
    assert mail["subject"] == "You already own Robots with Python: your new payment is refunded"
    assert "you already had access to Robots with Python" in mail["body"]
    assert "$15.00 is refunded automatically, in full" in mail["body"]
    assert "Your access comes from: cs_first" in mail["body"]


# ------------------------------------------------------------------------------------------------ disputes
def test_a_dispute_opened_goes_to_the_admins_with_what_they_need(notifications, lambda_context, buyer, env):
    data = billing.PaymentDisputed(**facts(buyer), dispute_id="dp_1Qnotify", disputed_amount=1500,
                                   reason="fraudulent")
    deliver(notifications, lambda_context, envelope(billing.PAYMENT_DISPUTED, data))
    admins = env["ADMIN_NOTIFICATION_EMAIL"]
    assert [m["to"] for m in sent_emails()] == [[admins]]
    mail = mail_to(admins)
    assert mail["subject"] == "Dispute opened: $15.00 on Robots with Python (pi_3Qnotify0001)"
    for text in ("dp_1Qnotify", "fraudulent", buyer["email"], buyer["user_id"], "is suspended"):
        assert text in mail["body"]
    assert "Ada Buyer &lt;" + buyer["email"] + "&gt;" in mail["html"]


@pytest.mark.parametrize(("outcome", "says"), [("won", "access to Robots with Python is restored"),
                                               ("lost", "the disputed amount is lost")])
def test_a_dispute_closed_goes_to_the_admins(notifications, lambda_context, buyer, env, outcome, says):
    data = billing.PaymentDisputeClosed(**facts(buyer), dispute_id="dp_1Qnotify", outcome=outcome)
    mail = mail_after(notifications, lambda_context, envelope(billing.PAYMENT_DISPUTE_CLOSED, data),
                      env["ADMIN_NOTIFICATION_EMAIL"])
    assert mail["subject"] == f"Dispute {outcome}: Robots with Python (pi_3Qnotify0001)"
    assert says in mail["body"]
    assert not [m for m in sent_emails() if m["to"] == [buyer["email"]]]


def test_the_admin_address_is_the_template_parameter(aws, env):
    assert env["ADMIN_NOTIFICATION_EMAIL"] == aws.provisioned.template["Parameters"]["AdminNotificationEmail"][
        "Default"]


# ------------------------------------------------------------------------------------------------ once, retried
def test_an_event_delivered_twice_sends_one_email(notifications, lambda_context, buyer):
    receipt = envelope(billing.PAYMENT_SUCCEEDED, billing.PaymentSucceeded(**facts(buyer), purchase="one_time"),
                       event_id="ev_payment_succeeded_pi_3Qnotify0001")
    deliver(notifications, lambda_context, receipt, receipt)
    deliver(notifications, lambda_context, receipt)
    assert len([m for m in sent_emails() if m["to"] == [buyer["email"]]]) == 1


def test_a_missing_profile_fails_the_message_so_it_is_retried(notifications, lambda_context, aws):
    user_id = str(uuid.uuid4())
    stranger = {"user_id": user_id}
    batch = sqs_event(envelope(billing.PAYMENT_SUCCEEDED, billing.PaymentSucceeded(**facts(stranger),
                                                                                  purchase="one_time"),
                               event_id="ev_payment_succeeded_later"))
    response = notifications.lambda_handler(batch, lambda_context)
    assert response == {"batchItemFailures": [{"itemIdentifier": batch["Records"][0]["messageId"]}]}
    assert sent_emails() == []
    # the profile appears (it is written before the event in every real flow): the redelivery sends the receipt
    profile = add_profile(aws, "Late Larry", user_id=user_id)
    assert notifications.lambda_handler(batch, lambda_context) == {"batchItemFailures": []}
    assert mail_to(profile["email"])["subject"] == "Your receipt for Robots with Python"


# ------------------------------------------------------------------------------------------------ track withdrawal
def withdrawn(user: dict[str, str], reason: str) -> Envelope:
    data = TrackWithdrawn(user_id=user["user_id"], track_id="DP", track_name="Data Professional",
                          payment_id="pi_3Qtrack", reason=reason)
    return Envelope(id=f"ev_track_withdrawn_{uuid.uuid4().hex}", source=ENROLLMENT_SOURCE, type=TRACK_WITHDRAWN,
                    data=data.model_dump(mode="json"))


def test_a_track_refund_makes_one_email_the_refund_notice(notifications, lambda_context, buyer):
    full = billing.PaymentRefunded(**facts(buyer, kind="track", item_name="Data Professional", amount=49900),
                                   refund_amount=49900, refunded_total=49900, full=True)
    deliver(notifications, lambda_context, withdrawn(buyer, "refunded"), envelope(billing.PAYMENT_REFUNDED, full))
    mail = mail_to(buyer["email"])
    assert mail["subject"] == "Refunded in full: your Data Professional enrollment has ended"
    assert "Your enrollment in Data Professional and its tools have been withdrawn." in mail["body"]


def test_a_track_withdrawn_after_a_lost_dispute_is_announced(notifications, lambda_context, buyer):
    mail = mail_after(notifications, lambda_context, withdrawn(buyer, "dispute_lost"), buyer["email"])
    assert mail["subject"] == "Your Data Professional enrollment has ended"
    assert "reversed after a dispute with your bank" in mail["body"]
    assert "reversed after a dispute with your bank" in mail["html"]
