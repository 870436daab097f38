"""The tutoring bookings' e-mails: coursepay.bookings envelopes in SQS batches through
functions/notifications/app.py with its template.yaml environment, sent through moto's SES. Each once per
recipient, times in the gig's time zone, the meeting link and a calendar invite that parses (icalendar)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import pytest
from icalendar import Calendar

from coursepay.bookings import events
from coursepay.bookings.bookings import Booking
from coursepay.events.envelope import Envelope
from tests.support.booked_sessions import booked, booking_event
from tests.support.tracks import consume, sent_emails

ZOOM_MEETING = {"provider": "zoom", "meeting_id": "81000000001", "join_url": "https://zoom.example/j/81000000001?pwd=a1",
                "host_url": "https://zoom.example/s/81000000001?zak=host-only"}
BERLIN_PERIOD = "Tuesday 15 December 2026, 15:00\u201316:30 (Europe/Berlin)"


@pytest.fixture
def notifications(load_function: Any, aws: Any) -> Any:
    aws.client("ses").verify_email_identity(EmailAddress=aws.function_env("NotificationsFunction")["EMAIL_SENDER"])
    return load_function("NotificationsFunction", "notifications")


def add_profile(aws: Any, name: str) -> dict[str, str]:
    user_id = str(uuid.uuid4())
    email = f"{name.split()[0].lower()}-{user_id[:8]}@example.com"
    aws.table("AccountsTable").put_item(Item={"pk": f"USER#{user_id}", "sk": "PROFILE", "user_id": user_id,
                                              "email": email, "name": name, "created_at": "2026-01-01T00:00:00Z"})
    return {"user_id": user_id, "email": email, "name": name}


@pytest.fixture
def teacher(aws: Any) -> dict[str, str]:
    return add_profile(aws, "Tess Teacher")


@pytest.fixture
def student(aws: Any) -> dict[str, str]:
    return add_profile(aws, "Sam Student")


@pytest.fixture
def booking(teacher: dict[str, str], student: dict[str, str]) -> Booking:
    return booked(teacher["user_id"], student["user_id"], meeting=ZOOM_MEETING)


def changed(booking: Booking, **changes: Any) -> Booking:
    return Booking.model_validate({**booking.model_dump(), **changes})


def deliver(module: Any, ctx: Any, *envelopes: Envelope) -> None:
    assert consume(module, ctx, *envelopes) == {"batchItemFailures": []}


def mails_to(address: str) -> list[dict[str, Any]]:
    return [mail for mail in sent_emails() if mail["to"] == [address]]


def invite_of(mail: dict[str, Any]) -> Calendar:
    [attachment] = mail["attachments"]
    assert (attachment["filename"], attachment["content_type"]) == ("invite.ics", "text/calendar")
    assert attachment["params"]["method"] == "REQUEST"
    return Calendar.from_ical(attachment["content"])


# ------------------------------------------------------------------------------------------ the meeting e-mail
def test_both_get_the_meeting_link_and_an_invite_the_teacher_alone_the_host_link(
        notifications, lambda_context, booking, teacher, student) -> None:
    deliver(notifications, lambda_context, booking_event(events.BOOKING_MEETING_CREATED, booking))
    [to_student], [to_teacher] = mails_to(student["email"]), mails_to(teacher["email"])
    for mail, other in ((to_student, teacher), (to_teacher, student)):
        assert mail["subject"] == "Your session link: Conversational German on 15 Dec 2026"
        for part in (mail["body"], mail["html"]):
            assert ZOOM_MEETING["join_url"].replace("&", "&amp;") in part or ZOOM_MEETING["join_url"] in part
            assert BERLIN_PERIOD in part
            assert other["name"] in part
    assert ZOOM_MEETING["host_url"] in to_teacher["body"]
    assert "zak=" in to_teacher["html"]
    assert "zak=" not in to_student["body"] + to_student["html"]


def test_the_invite_is_a_calendar_request_with_the_booking_uid_and_utc_times(
        notifications, lambda_context, booking, teacher, student) -> None:
    deliver(notifications, lambda_context, booking_event(events.BOOKING_MEETING_CREATED, booking))
    invites = [invite_of(mail) for mail in mails_to(student["email"]) + mails_to(teacher["email"])]
    raw = mails_to(student["email"])[0]["attachments"][0]["content"]
    assert "DTSTART:20261215T140000Z\r\n" in raw  # UTC form, CRLF line ends (RFC 5545)
    assert "DTEND:20261215T153000Z\r\n" in raw
    for calendar in invites:
        assert calendar["METHOD"] == "REQUEST"
        [event] = calendar.walk("VEVENT")
        assert str(event["UID"]) == f"booking-{booking.booking_id}@coursepay"
        assert event.decoded("DTSTART") == datetime(2026, 12, 15, 14, 0, tzinfo=UTC)
        assert event.decoded("DTEND") == datetime(2026, 12, 15, 15, 30, tzinfo=UTC)
        assert str(event["LOCATION"]) == ZOOM_MEETING["join_url"]
        attendees = {str(a) for a in event["ATTENDEE"]}
        assert attendees == {f"mailto:{student['email']}", f"mailto:{teacher['email']}"}
        assert "zak=" not in calendar.to_ical().decode()
    assert invites[0].to_ical() == invites[1].to_ical()


def test_replayed_events_mail_each_participant_once(notifications, lambda_context, booking, teacher,
                                                     student) -> None:
    created = booking_event(events.BOOKING_MEETING_CREATED, booking)
    deliver(notifications, lambda_context, created, created)
    deliver(notifications, lambda_context, created)
    assert len(mails_to(student["email"])) == 1
    assert len(mails_to(teacher["email"])) == 1


def test_a_retry_after_one_of_two_sends_failed_does_not_resend_the_first(
        notifications, lambda_context, aws, student) -> None:
    late_teacher_id = str(uuid.uuid4())  # the teacher's profile is not readable yet: that send fails
    item = booked(late_teacher_id, student["user_id"], meeting=ZOOM_MEETING)
    reminder = booking_event(events.BOOKING_REMINDER_DUE, item)
    assert len(consume(notifications, lambda_context, reminder)["batchItemFailures"]) == 1
    aws.table("AccountsTable").put_item(Item={"pk": f"USER#{late_teacher_id}", "sk": "PROFILE",
                                              "user_id": late_teacher_id, "email": "late@example.com",
                                              "name": "Late Teacher", "created_at": "2026-01-01T00:00:00Z"})
    deliver(notifications, lambda_context, reminder)
    assert len(mails_to("late@example.com")) == 1
    assert len(mails_to(student["email"])) == 1


# ------------------------------------------------------------------------------------------ every other e-mail
EVERY_OTHER_EMAIL = [  # (event type, who gets it, subject, what the plain text says)
    (events.BOOKING_REQUESTED, ["teacher"], "New booking request: Conversational German on 15 Dec 2026",
     "Please confirm or decline by Thursday 3 December 2026, 10:00 (Europe/Berlin)"),
    (events.BOOKING_CONFIRMED, ["student"], "Confirmed: Conversational German on 15 Dec 2026",
     "Please pay by Wednesday 2 December 2026, 11:00 (Europe/Berlin)"),
    (events.BOOKING_DECLINED, ["student"], "Your request for Conversational German was declined",
     "Nothing was charged"),
    (events.BOOKING_PAID, ["student"], "Your receipt for Conversational German", "\u20ac78.75"),
    (events.BOOKING_REMINDER_DUE, ["student", "teacher"], "Reminder: Conversational German on 15 Dec 2026",
     ZOOM_MEETING["join_url"]),
    (events.BOOKING_CANCELLED, ["student", "teacher"], "Cancelled: Conversational German on 15 Dec 2026",
     "Reason: Moving house"),
    (events.BOOKING_EXPIRED, ["student", "teacher"],
     "Expired: the request for Conversational German on 15 Dec 2026", "not answered in time"),
    (events.BOOKING_REFUNDED, ["student"], "Refund for Conversational German", "we refunded \u20ac39.38"),
]


def test_each_booking_event_mails_whom_it_concerns(notifications, lambda_context, aws) -> None:
    # one moto stack for every case (a stack per case costs seconds each): each case its own two people
    for event_type, to, subject, says in EVERY_OTHER_EMAIL:
        people = {"teacher": add_profile(aws, "Tess Teacher"), "student": add_profile(aws, "Sam Student")}
        extra = {"cancelled_by": "student", "cancel_reason": "Moving house"} \
            if event_type == events.BOOKING_CANCELLED else {}
        item = booked(people["teacher"]["user_id"], people["student"]["user_id"], meeting=ZOOM_MEETING, **extra)
        refund = {"refund_amount": 3938} if event_type == events.BOOKING_REFUNDED else {}
        deliver(notifications, lambda_context, booking_event(event_type, item, **refund))
        for role in ("student", "teacher"):
            sent = mails_to(people[role]["email"])
            assert len(sent) == (1 if role in to else 0), (event_type, role)
            for mail in sent:
                assert mail["subject"] == subject
                assert says in mail["body"], event_type
                assert BERLIN_PERIOD in mail["body"]
                assert BERLIN_PERIOD in mail["html"]
                assert mail["attachments"] == []


def test_the_receipt_itemises_base_fee_and_total(notifications, lambda_context, booking, student) -> None:
    deliver(notifications, lambda_context, booking_event(events.BOOKING_PAID, booking))
    [mail] = mails_to(student["email"])
    for line in ("Session price: \u20ac75.00", "Service fee: \u20ac3.75", "Amount paid: \u20ac78.75",
                 "Reference: pi_3Qbooking0001"):
        assert line in mail["body"]


def test_cancellation_says_who_cancelled_to_each_side(notifications, lambda_context, booking, teacher,
                                                      student) -> None:
    item = changed(booking, status="cancelled", cancelled_by="teacher", payment_status="refunded")
    deliver(notifications, lambda_context, booking_event(events.BOOKING_CANCELLED, item))
    [to_student], [to_teacher] = mails_to(student["email"]), mails_to(teacher["email"])
    assert "Tess Teacher cancelled this session" in to_student["body"]
    assert "refund under the cancellation policy" in to_student["body"]
    assert "you cancelled this session" in to_teacher["body"]


def test_times_follow_the_gigs_time_zone_and_titles_are_escaped_in_html(
        notifications, lambda_context, teacher, student) -> None:
    item = booked(teacher["user_id"], student["user_id"], time_zone="America/New_York",
                        gig_title='<script>alert("x")</script> Algebra', meeting=ZOOM_MEETING)
    deliver(notifications, lambda_context, booking_event(events.BOOKING_REMINDER_DUE, item))
    [mail] = mails_to(student["email"])
    assert "Tuesday 15 December 2026, 09:00\u201310:30 (America/New_York)" in mail["body"]
    assert "<script>" not in mail["html"]
    assert "&lt;script&gt;" in mail["html"]
    assert '<script>alert("x")</script> Algebra' in mail["body"]  # plain text reads as written


def test_a_booking_payment_gets_one_receipt_and_one_refund_notice_not_the_generic_ones_too(
        notifications, lambda_context, booking, student) -> None:
    from coursepay.billing import events as billing

    facts = {"payment_id": "pi_3Qbooking0001", "user_id": student["user_id"], "kind": "booking",
             "item_id": booking.booking_id, "item_name": booking.gig_title, "amount": 7875, "currency": "eur"}
    deliver(notifications, lambda_context,
            billing.billing_envelope(billing.PAYMENT_SUCCEEDED, "ev_pay_ok", billing.PaymentSucceeded(
                **facts, purchase="one_time"), None),
            billing.billing_envelope(billing.PAYMENT_REFUNDED, "ev_pay_refund", billing.PaymentRefunded(
                **facts, refund_amount=7875, refunded_total=7875, full=True), None),
            booking_event(events.BOOKING_PAID, booking),
            booking_event(events.BOOKING_REFUNDED, changed(booking, refunded_amount=7875), suffix="re_1",
                          refund_amount=7875))
    assert [mail["subject"] for mail in mails_to(student["email"])] == [
        "Your receipt for Conversational German", "Refund for Conversational German"]


def test_a_booking_unpaid_by_its_deadline_is_cancelled_by_coursepay_and_says_why(
        notifications, lambda_context, booking, student) -> None:
    item = changed(booking, status="cancelled", cancelled_by="system", payment_status="unpaid", meeting=None)
    deliver(notifications, lambda_context, booking_event(events.BOOKING_CANCELLED, item))
    [mail] = mails_to(student["email"])
    assert "coursepay cancelled this session: it was not paid by the payment deadline." in mail["body"]
    assert "Nothing was charged." in mail["body"]
