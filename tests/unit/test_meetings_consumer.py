"""The meetings function: booking.paid envelopes in SQS batches through functions/meetings/app.py with its
template.yaml environment (moto): the meeting written once on the booking, booking.meeting_created published
(NotificationsRule -> NotificationsQueue), replays and races, failures left for SQS to retry."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from coursepay.bookings.booking_repository import BookingsRepository
from coursepay.bookings.bookings import Booking
from coursepay.bookings.events import BOOKING_MEETING_CREATED, BOOKING_PAID
from coursepay.events.envelope import Envelope
from coursepay.events.publisher import EventPublisher
from coursepay.meetings.interface import Meeting, MeetingSlot
from coursepay.meetings.room_links import RoomLinkProvider
from coursepay.meetings.service import MeetingService
from coursepay.storage.audit import AuditTrail
from local.tool_standins.faults import Fault
from local.tool_standins.server import ZOOM_ACCOUNT_ID, ZOOM_CLIENT_ID, ZOOM_CLIENT_SECRET, ToolStandins
from tests.support.booked_sessions import booked, booking_event
from tests.support.tracks import consume, drain


@pytest.fixture
def meetings(load_function: Any) -> Any:
    return load_function("MeetingsFunction", "meetings")


@pytest.fixture
def repository(aws: Any) -> BookingsRepository:
    return BookingsRepository(aws.name("BookingsTable"))


@pytest.fixture
def booking(repository: BookingsRepository) -> Booking:
    made = booked("teacher-1", "student-1")
    repository.create(made)
    return made


def stored(aws: Any, booking_id: str) -> Booking:
    found = BookingsRepository(aws.name("BookingsTable")).get(booking_id)
    assert found is not None
    return found


def published(aws: Any, event_type: str) -> list[dict[str, Any]]:
    """The envelopes of ``event_type`` the bus delivered to the notifications queue."""
    details = [json.loads(record["body"])["detail"] for record in drain(aws, "NotificationsQueue")]
    return [detail for detail in details if detail["type"] == event_type]


def paid(booking: Booking, event_id: str | None = None) -> Envelope:
    envelope = booking_event(BOOKING_PAID, booking)
    return envelope.model_copy(update={"id": event_id}) if event_id else envelope


def test_a_paid_booking_gets_one_meeting_and_the_event_says_so(meetings, lambda_context, aws, booking) -> None:
    assert consume(meetings, lambda_context, paid(booking)) == {"batchItemFailures": []}
    after = stored(aws, booking.booking_id)
    assert after.meeting is not None
    assert re.fullmatch(r"https://meet\.jit\.si/coursepay-[0-9a-f]{24}", after.meeting.join_url)
    assert after.meeting.provider == "jitsi"
    assert after.version == booking.version + 1
    [event] = published(aws, BOOKING_MEETING_CREATED)
    assert event["id"] == f"ev_booking_{booking.booking_id}_booking.meeting_created"
    assert event["source"] == "coursepay.bookings"
    assert event["data"]["meeting"] == after.meeting.model_dump()
    assert event["data"]["booking_id"] == booking.booking_id
    assert not {"version", "pk", "sk"} & set(event["data"])
    audit = aws.table("AuditTable").query(KeyConditionExpression="pk = :pk",
                                          ExpressionAttributeValues={":pk": f"booking#{booking.booking_id}"})
    assert [entry["action"] for entry in audit["Items"]] == ["booking.meeting_created"]


def test_a_replayed_or_second_paid_event_creates_no_second_meeting(meetings, lambda_context, aws, booking) -> None:
    consume(meetings, lambda_context, paid(booking))
    first = stored(aws, booking.booking_id)
    # the same envelope again (the consumer's claim), then another envelope about the same payment
    assert consume(meetings, lambda_context, paid(booking), paid(booking, "ev_other")) == {"batchItemFailures": []}
    again = stored(aws, booking.booking_id)
    assert again.meeting == first.meeting
    assert again.version == first.version
    events = published(aws, BOOKING_MEETING_CREATED)
    # published again by the second envelope (a crash may have lost the first publish), with the same id
    assert len(events) == 2
    assert {event["id"] for event in events} == {f"ev_booking_{booking.booking_id}_booking.meeting_created"}


def test_a_booking_not_written_yet_fails_the_message_for_a_retry(meetings, lambda_context, aws) -> None:
    ghost = booked("teacher-1", "student-1")  # never stored
    envelope = paid(ghost)
    result = consume(meetings, lambda_context, envelope)
    assert len(result["batchItemFailures"]) == 1
    assert published(aws, BOOKING_MEETING_CREATED) == []


def test_a_booking_cancelled_before_the_consumer_ran_gets_no_meeting(meetings, lambda_context, aws, repository,
                                                                    booking) -> None:
    repository.transition(booking.booking_id, {"confirmed"}, {"status": "cancelled", "payment_status": "refunded",
                                                              "cancelled_by": "student"})
    assert consume(meetings, lambda_context, paid(booking)) == {"batchItemFailures": []}
    assert stored(aws, booking.booking_id).meeting is None
    assert published(aws, BOOKING_MEETING_CREATED) == []


# ------------------------------------------------------------------------------------------ Zoom
@pytest.fixture(scope="module")
def standins() -> Any:
    server = ToolStandins().start()
    yield server
    server.stop()


@pytest.fixture
def zoom_meetings(aws: Any, load_function: Any, monkeypatch: pytest.MonkeyPatch, standins: ToolStandins) -> Any:
    standins.faults.clear()
    aws.client("secretsmanager").put_secret_value(SecretId=aws.name("ZoomMeetingsSecret"), SecretString=json.dumps({
        "account_id": ZOOM_ACCOUNT_ID, "client_id": ZOOM_CLIENT_ID, "client_secret": ZOOM_CLIENT_SECRET,
        "oauth_base": standins.zoom_url, "api_base": standins.zoom_url + "/v2"}))
    module = load_function("MeetingsFunction", "meetings")
    monkeypatch.setenv("MEETING_PROVIDER", "zoom")  # the template parameter MeetingProvider=zoom
    return module


def zoom_meetings_of(standins: ToolStandins, booking_id: str) -> list[dict[str, Any]]:
    return [m for m in standins.zoom.state()["meetings"] if m["agenda"] == f"coursepay booking {booking_id}"]


def test_with_zoom_a_failing_zoom_fails_the_message_and_the_retry_creates_the_meeting_once(
        zoom_meetings, lambda_context, aws, booking, standins) -> None:
    standins.faults.add(Fault(service="zoom", status=503, times=3, path_contains="/meetings", retry_after=1))
    assert len(consume(zoom_meetings, lambda_context, paid(booking))["batchItemFailures"]) == 1
    assert stored(aws, booking.booking_id).meeting is None
    assert zoom_meetings_of(standins, booking.booking_id) == []
    # SQS brings the message back (same envelope): the claim was released, so it runs again
    assert consume(zoom_meetings, lambda_context, paid(booking)) == {"batchItemFailures": []}
    assert consume(zoom_meetings, lambda_context, paid(booking, "ev_again")) == {"batchItemFailures": []}
    [made] = zoom_meetings_of(standins, booking.booking_id)
    meeting = stored(aws, booking.booking_id).meeting
    assert meeting is not None
    assert (meeting.provider, meeting.meeting_id) == ("zoom", str(made["id"]))
    assert (meeting.join_url, meeting.host_url) == (made["join_url"], made["start_url"])


class RacingProvider(RoomLinkProvider):
    """Another worker writes its meeting on the booking while this one is asking the provider for one."""

    def __init__(self, repository: BookingsRepository) -> None:
        super().__init__()
        self.discarded: list[Meeting] = []
        self._repository = repository

    def create_meeting(self, slot: MeetingSlot) -> Meeting:
        theirs = {"provider": "jitsi", "meeting_id": "theirs", "join_url": "https://meet.jit.si/theirs"}
        self._repository.transition(slot.booking_id, {"confirmed"}, {"meeting": theirs})
        return super().create_meeting(slot)

    def discard_meeting(self, meeting: Meeting) -> None:
        self.discarded.append(meeting)


def test_a_meeting_that_lost_the_race_is_discarded_and_the_first_one_kept(aws, repository, booking) -> None:
    env = aws.function_env("MeetingsFunction")
    provider = RacingProvider(repository)
    service = MeetingService(provider, repository, EventPublisher(env["EVENT_BUS_NAME"]),
                             AuditTrail(env["AUDIT_TABLE"]))
    service.on_booking_paid(paid(booking))
    kept = stored(aws, booking.booking_id).meeting
    assert kept is not None
    assert kept.meeting_id == "theirs"
    assert [m.meeting_id for m in provider.discarded] == [RoomLinkProvider().create_meeting(
        MeetingSlot.model_validate(booking.model_dump())).meeting_id]
    [event] = published(aws, BOOKING_MEETING_CREATED)
    assert event["data"]["meeting"]["meeting_id"] == "theirs"


def test_the_zoom_setting_without_its_secret_is_refused(monkeypatch) -> None:
    from coursepay.meetings.settings import MeetingsSettings

    with pytest.raises(ValueError, match="ZOOM_SECRET_ID"):
        MeetingsSettings(idempotency_table="i", audit_table="a", bookings_table="b", event_bus_name="e",
                         meeting_provider="zoom")
