"""A paid booking's meeting and e-mails through the local stack: a ``booking.paid`` envelope on the bus (what
payments publishes) -> MeetingsRule -> MeetingsQueue -> MeetingsFunction creates the Zoom meeting (the stack runs
``MeetingProvider=zoom`` against the Zoom stand-in) once -> ``booking.meeting_created`` -> the notifications
function mails both participants the link and the .ics invite (the outbox). Replays, a failing Zoom, the DLQ."""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

import requests
from icalendar import Calendar

from coursepay.bookings.bookings import Booking
from coursepay.bookings.events import BOOKING_PAID
from coursepay.events.envelope import Envelope
from tests.support.booked_sessions import booked, booking_event, stored_item

LINK = "Your session link: "
RECEIPT = "Your receipt for "


def publish(aws: Any, envelope: Envelope) -> None:
    response = aws.client("events").put_events(Entries=[{
        "EventBusName": aws.name("EventBus"), "Source": envelope.source, "DetailType": envelope.type,
        "Detail": envelope.model_dump_json()}])
    assert response["FailedEntryCount"] == 0


def participants(aws: Any) -> tuple[dict[str, str], dict[str, str]]:
    people = []
    for name in ("Tara Teacher", "Stan Student"):
        user_id = str(uuid.uuid4())
        email = f"{name.split()[1].lower()}-{user_id[:8]}@example.com"
        aws.table("AccountsTable").put_item(Item={"pk": f"USER#{user_id}", "sk": "PROFILE", "user_id": user_id,
                                                  "email": email, "name": name, "created_at": "2026-01-01T00:00:00Z"})
        people.append({"user_id": user_id, "email": email, "name": name})
    return people[0], people[1]


def paid_booking(aws: Any) -> tuple[Booking, dict[str, str], dict[str, str]]:
    """A confirmed, paid booking as the lifecycle stores it (written here: the lifecycle's routes and payments'
    consumer are on their own branches)."""
    teacher, student = participants(aws)
    booking = booked(teacher["user_id"], student["user_id"])
    aws.table("BookingsTable").put_item(Item=stored_item(booking))
    return booking, teacher, student


def stored_meeting(aws: Any, booking_id: str) -> dict[str, Any] | None:
    item = aws.table("BookingsTable").get_item(Key={"pk": f"BOOKING#{booking_id}", "sk": "BOOKING"})["Item"]
    meeting: dict[str, Any] | None = item.get("meeting")
    return meeting


def zoom_meetings(stack: Any, booking_id: str) -> list[dict[str, Any]]:
    state = requests.get(f"{stack.learning_tools.standins.url}/_standins/state", timeout=5).json()
    return [m for m in state["zoom"]["meetings"] if m["agenda"] == f"coursepay booking {booking_id}"]


def mails_to(outbox: Any, address: str, subject_start: str) -> list[dict[str, Any]]:
    return [message for message in outbox() if message["to"] == [address]
            and message["subject"].startswith(subject_start)]


def claim_completed(aws: Any, key: str) -> bool:
    item = aws.table("IdempotencyTable").get_item(Key={"pk": key}).get("Item")
    return bool(item and item["status"] == "COMPLETED")


def test_a_paid_booking_gets_one_zoom_meeting_and_both_participants_the_link_and_invite(
        stack, aws, outbox, eventually) -> None:
    item, teacher, student = paid_booking(aws)
    paid = booking_event(BOOKING_PAID, item)
    publish(aws, paid)
    meeting = eventually(lambda: stored_meeting(aws, item.booking_id), timeout=30)
    [made] = zoom_meetings(stack, item.booking_id)
    assert (meeting["provider"], meeting["meeting_id"], meeting["join_url"]) == ("zoom", str(made["id"]),
                                                                                 made["join_url"])
    to_student = eventually(lambda: mails_to(outbox, student["email"], LINK), timeout=30)
    to_teacher = eventually(lambda: mails_to(outbox, teacher["email"], LINK), timeout=30)
    [receipt] = eventually(lambda: mails_to(outbox, student["email"], RECEIPT), timeout=30)  # booking.paid's own
    assert "Amount paid: \u20ac78.75" in receipt["body"]
    for [mail] in (to_student, to_teacher):
        assert meeting["join_url"] in mail["body"]
        [invite] = mail["attachments"]
        assert (invite["filename"], invite["content_type"], invite["params"]["method"]) == (
            "invite.ics", "text/calendar", "REQUEST")
        [event] = Calendar.from_ical(invite["content"]).walk("VEVENT")
        assert str(event["UID"]) == f"booking-{item.booking_id}@coursepay"
        assert str(event["LOCATION"]) == meeting["join_url"]
    assert meeting["host_url"] in to_teacher[0]["body"]
    assert meeting["host_url"] not in to_student[0]["body"]

    # replayed: the same envelope on the bus; and, to the meetings queue alone, another envelope about the same
    # payment (a new event id: the consumer's claim does not stop it, the booking's meeting field does)
    publish(aws, paid)
    other = paid.model_copy(update={"id": f"ev_replay_{uuid.uuid4().hex}"})
    aws.client("sqs").send_message(QueueUrl=aws.name("MeetingsQueue"), MessageBody=json.dumps({
        "version": "0", "id": str(uuid.uuid4()), "detail-type": other.type, "source": other.source,
        "detail": json.loads(other.model_dump_json())}))
    eventually(lambda: claim_completed(aws, "meetings#" + other.id), timeout=30)
    time.sleep(3)  # room for a second meeting or e-mail to appear, had the replay made one
    assert len(zoom_meetings(stack, item.booking_id)) == 1
    assert stored_meeting(aws, item.booking_id) == meeting
    for address in (student["email"], teacher["email"]):
        assert len(mails_to(outbox, address, LINK)) == 1
    assert len(mails_to(outbox, student["email"], RECEIPT)) == 1
    assert len(mails_to(outbox, teacher["email"], "")) == 1


def test_a_failing_zoom_is_retried_by_sqs_and_the_meeting_made_once(stack, aws, eventually) -> None:
    standins = stack.learning_tools.standins.url
    item, _teacher, _student = paid_booking(aws)
    # every in-process attempt of the first receive fails (3 tries): SQS brings the message back
    fault = requests.post(f"{standins}/_standins/faults", timeout=5,
                          json={"service": "zoom", "status": 503, "times": 3, "path_contains": "/meetings"})
    assert fault.status_code == 201
    publish(aws, booking_event(BOOKING_PAID, item))
    meeting = eventually(lambda: stored_meeting(aws, item.booking_id), timeout=40)
    [made] = zoom_meetings(stack, item.booking_id)
    assert meeting["meeting_id"] == str(made["id"])


def test_a_paid_event_for_a_booking_that_does_not_exist_ends_in_the_dlq(stack, aws, eventually) -> None:
    ghost = booked("teacher-x", "student-x")  # never written
    envelope = booking_event(BOOKING_PAID, ghost)
    sqs = aws.client("sqs")
    # to the meetings queue alone: on the bus, the notifications consumer would fail on the ghost's e-mails too
    # and leave them in its DLQ, which the stack's other tests expect empty
    sqs.send_message(QueueUrl=aws.name("MeetingsQueue"), MessageBody=json.dumps({
        "version": "0", "id": str(uuid.uuid4()), "detail-type": envelope.type, "source": envelope.source,
        "detail": json.loads(envelope.model_dump_json())}))

    def in_dlq() -> list[dict[str, Any]]:
        messages = sqs.receive_message(QueueUrl=aws.name("MeetingsDLQ"), MaxNumberOfMessages=10,
                                       WaitTimeSeconds=1).get("Messages", [])
        return [m for m in messages if json.loads(m["Body"])["detail"]["id"] == envelope.id]

    [dead] = eventually(in_dlq, timeout=60)
    assert json.loads(dead["Body"])["detail-type"] == BOOKING_PAID
