"""Bookings through the bookings function (moto tables from template.yaml): quote, request and its refusals,
visibility, confirm / decline / cancel, their audit entries and domain events."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from coursepay.bookings.booking_repository import BookingsRepository
from coursepay.bookings.models import Gig
from coursepay.bookings.repository import GigsRepository
from tests.support.api_events import body_of, claims_for, http_event
from tests.unit.test_webhook import queue_messages

TEACHER, OTHER_TEACHER, ADMIN, STUDENT, OTHER_STUDENT = "teacher-1", "teacher-2", "admin-1", "student-1", "student-2"
BERLIN = ZoneInfo("Europe/Berlin")
EVERY_DAY = [{"weekday": day, "start": "08:00", "end": "20:00"} for day in range(7)]


def berlin_slot(days: int, hour: int, minute: int = 0) -> str:
    """``days`` from today at ``hour:minute`` Berlin wall-clock time, as the UTC text a client sends."""
    day = datetime.now(UTC).astimezone(BERLIN).date() + timedelta(days=days)
    local = datetime(day.year, day.month, day.day, hour, minute, tzinfo=BERLIN)
    return local.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def store_gig(aws, gig_id: str = "gig_algebra", **fields) -> Gig:
    now = "2026-01-01T00:00:00.000Z"
    gig = Gig.model_validate({
        "gig_id": gig_id, "teacher_id": TEACHER, "title": "Algebra", "subject": "maths", "language": "en",
        "hourly_rate": 5000, "currency": "usd", "durations": [30, 60, 90], "time_zone": "Europe/Berlin",
        "availability": EVERY_DAY, "min_notice_hours": 12, "status": "active", "created_at": now, "updated_at": now,
        **fields})
    GigsRepository(aws.name("BookingsTable")).create(gig)
    return gig


class Api:
    def __init__(self, function, context) -> None:
        self.function = function
        self.context = context

    def call(self, method, path, *, route=None, user=None, body=None, query=None, headers=None):
        group = "teachers" if user and user.startswith("teacher") else "admins" if user == ADMIN else "students"
        event = http_event(method, path, route=route, body=body, query=query, headers=headers,
                           claims=claims_for(user, group) if user else None)
        response = self.function.lambda_handler(event, self.context)
        return response["statusCode"], body_of(response)

    def request(self, user=STUDENT, headers=None, **fields):
        body = {"gig_id": "gig_algebra", "start": berlin_slot(3, 10), "duration_minutes": 90, **fields}
        return self.call("POST", "/bookings", user=user, body=body, headers=headers)

    def act(self, booking_id, action, user=TEACHER, body=None):
        return self.call("POST", f"/bookings/{booking_id}/{action}", route=f"/bookings/{{bookingId}}/{action}",
                         user=user, body=body)

    def get(self, booking_id, user=STUDENT):
        return self.call("GET", f"/bookings/{booking_id}", route="/bookings/{bookingId}", user=user)


@pytest.fixture
def api(aws, load_function, lambda_context) -> Api:
    store_gig(aws)
    return Api(load_function("BookingsFunction", "bookings"), lambda_context)


def bus_events(aws) -> list[dict]:
    return [message["detail"] for message in queue_messages(aws, "NotificationsQueue")
            if message["source"] == "coursepay.bookings"]


# ------------------------------------------------------------------------------------------ quote
def test_quote_is_the_seeds_example_and_a_minimum_fee_case(api, aws):
    status, quote = api.call("POST", "/bookings/quote", user=STUDENT,
                             body={"gig_id": "gig_algebra", "start": berlin_slot(3, 10), "duration_minutes": 90})
    assert status == 200, quote
    assert {k: quote[k] for k in ("currency", "duration_minutes", "base_amount", "fee_amount", "total_amount")} == {
        "currency": "usd", "duration_minutes": 90, "base_amount": 7500, "fee_amount": 375, "total_amount": 7875}
    assert "5 %" in quote["fee_rule"]
    store_gig(aws, "gig_cheap", hourly_rate=500)  # 5.00/h x 30 min = 2.50: 5 % is 0.13, the minimum is 1.00
    status, quote = api.call("POST", "/bookings/quote", user=STUDENT,
                             body={"gig_id": "gig_cheap", "start": berlin_slot(3, 10), "duration_minutes": 30})
    assert (status, quote["base_amount"], quote["fee_amount"], quote["total_amount"]) == (200, 250, 100, 350)


def test_an_amount_sent_by_the_client_is_refused_naming_it(api):
    for field in ("total_amount", "fee_amount", "base_amount", "hourly_rate"):
        body = {"gig_id": "gig_algebra", "start": berlin_slot(3, 10), "duration_minutes": 90, field: 1}
        for path in ("/bookings/quote", "/bookings"):
            status, error = api.call("POST", path, user=STUDENT, body=body)
            assert (status, error["error"]["field"]) == (400, field), (path, error)


# ------------------------------------------------------------------------------------------ request
def test_a_request_is_pending_unpaid_with_server_amounts_and_published(api, aws):
    start = berlin_slot(3, 10)
    status, booking = api.request(start=start)
    assert status == 201, booking
    assert booking["booking_id"].startswith("bk_")
    assert (booking["status"], booking["payment_status"]) == ("pending", "unpaid")
    assert (booking["start"], booking["duration_minutes"]) == (start.replace("Z", ".000Z"), 90)
    assert (booking["base_amount"], booking["fee_amount"], booking["total_amount"]) == (7500, 375, 7875)
    assert (booking["teacher_id"], booking["student_id"], booking["gig_title"]) == (TEACHER, STUDENT, "Algebra")
    assert "version" not in booking
    events = bus_events(aws)
    assert [(e["type"], e["id"]) for e in events] == [
        ("booking.requested", f"ev_booking_{booking['booking_id']}_booking.requested")]
    assert events[0]["data"]["booking_id"] == booking["booking_id"]
    audit = aws.table("AuditTable").query(KeyConditionExpression="pk = :pk",
                                          ExpressionAttributeValues={":pk": f"booking#{booking['booking_id']}"})
    assert [item["action"] for item in audit["Items"]] == ["booking.requested"]


def test_a_booking_event_carries_the_requests_correlation_id(api, aws):
    status, booking = api.request(headers={"x-correlation-id": "req-trace-0001-booking"})
    assert status == 201, booking
    [event] = bus_events(aws)
    assert (event["type"], event["correlation_id"]) == ("booking.requested", "req-trace-0001-booking")


def test_the_same_idempotency_key_is_the_same_booking(api):
    first = api.request(headers={"Idempotency-Key": "k1"})
    again = api.request(headers={"Idempotency-Key": "k1"})
    assert first[0] == again[0] == 201
    assert first[1]["booking_id"] == again[1]["booking_id"]


REFUSALS = [
    ({"start": berlin_slot(-1, 10)}, 400, "start", "start_in_past"),
    ({"start": (datetime.now(UTC) + timedelta(hours=2)).replace(minute=0, second=0, microsecond=0)
      .strftime("%Y-%m-%dT%H:%M:%SZ")}, 400, "start", "inside_min_notice"),
    ({"start": berlin_slot(3, 21)}, 400, "start", "outside_availability"),  # 21:00 Berlin; window ends 20:00
    ({"start": berlin_slot(3, 19)}, 400, "start", "outside_availability"),  # 19:00 + 90 min runs past 20:00
    ({"duration_minutes": 45}, 400, "duration_minutes", "duration_not_offered"),
    ({"start": berlin_slot(3, 10, 7)}, 400, "start", "invalid_request"),  # off the 15-minute grid
    ({"start": "2026-12-07T09:00:00"}, 400, "start", "invalid_request"),  # no offset
    ({"gig_id": "gig_nope"}, 404, "gig_id", "not_found"),
]


def test_a_request_is_refused_with_the_reason(api, aws):
    for fields, status, field, code in REFUSALS:  # one stack for all: each case leaves nothing behind
        got, error = api.request(**fields)
        assert (got, error["error"]["field"], error["error"]["code"]) == (status, field, code), fields
    assert api.call("GET", "/bookings", user=STUDENT)[1]["items"] == []
    assert bus_events(aws) == []


def test_a_teacher_cannot_book_their_own_gig(api):
    status, error = api.request(user=TEACHER)
    assert (status, error["error"]["code"]) == (403, "own_gig")


def test_an_overlapping_slot_of_the_teacher_is_taken_until_the_booking_is_declined(api, aws):
    store_gig(aws, "gig_spanish", title="Spanish")  # another gig of the same teacher: same calendar
    _, first = api.request(start=berlin_slot(3, 10))
    status, error = api.request(user=OTHER_STUDENT, gig_id="gig_spanish", start=berlin_slot(3, 11), duration_minutes=60)
    assert (status, error["error"]["code"], error["error"]["field"]) == (409, "slot_taken", "start")
    assert api.request(user=OTHER_STUDENT, start=berlin_slot(3, 11, 30), duration_minutes=30)[0] == 201  # adjacent
    assert api.act(first["booking_id"], "decline", body={"reason": "ill that day"})[0] == 200
    assert api.request(user=OTHER_STUDENT, gig_id="gig_spanish", start=berlin_slot(3, 10),
                       duration_minutes=60)[0] == 201


# ------------------------------------------------------------------------------------------ visibility
def test_who_sees_a_booking_and_the_lists(api):
    _, booking = api.request()
    booking_id = booking["booking_id"]
    for user in (STUDENT, TEACHER, ADMIN):
        assert api.get(booking_id, user=user) == (200, booking)
    for user in (OTHER_STUDENT, OTHER_TEACHER):
        status, error = api.get(booking_id, user=user)
        assert (status, error["error"]["code"]) == (404, "not_found")
    assert api.get("bk_missing")[0] == 404
    mine = api.call("GET", "/bookings", user=STUDENT)[1]
    assert ([b["booking_id"] for b in mine["items"]], mine["next_cursor"]) == ([booking_id], None)
    assert api.call("GET", "/bookings", user=OTHER_STUDENT)[1] == {"items": [], "next_cursor": None}
    taught = api.call("GET", "/bookings", user=TEACHER, query={"role": "teacher"})[1]
    assert [b["booking_id"] for b in taught["items"]] == [booking_id]
    assert [b["booking_id"] for b in api.call("GET", "/bookings", user=ADMIN)[1]["items"]] == [booking_id]
    status, error = api.call("GET", "/bookings", user=STUDENT, query={"role": "admin"})
    assert (status, error["error"]["field"]) == (403, "role")
    assert api.call("GET", "/bookings", user=STUDENT, query={"limit": "0"})[0] == 400


def test_the_meetings_host_link_is_shown_to_the_teacher_and_admins_only(api, aws):
    _, booking = api.request()
    meeting = {"provider": "zoom", "meeting_id": "91", "join_url": "https://zoom.example/j/91",
               "host_url": "https://zoom.example/s/91?zak=host-token"}
    BookingsRepository(aws.name("BookingsTable")).transition(booking["booking_id"], {"pending"}, {"meeting": meeting})
    for user in (TEACHER, ADMIN):
        assert api.get(booking["booking_id"], user=user)[1]["meeting"] == meeting
    shown = api.get(booking["booking_id"], user=STUDENT)[1]["meeting"]
    assert shown == {key: value for key, value in meeting.items() if key != "host_url"}
    listed = api.call("GET", "/bookings", user=STUDENT)[1]["items"][0]["meeting"]
    assert "host_url" not in listed


# ------------------------------------------------------------------------------------------ answers
def test_the_teacher_confirms_once_and_then_cannot_decline(api, aws):
    _, booking = api.request()
    booking_id = booking["booking_id"]
    status, error = api.act(booking_id, "confirm", user=STUDENT)
    assert (status, error["error"]["code"]) == (403, "forbidden")
    assert api.act(booking_id, "confirm", user=OTHER_TEACHER)[0] == 404
    status, confirmed = api.act(booking_id, "confirm")
    assert status == 200, confirmed
    assert confirmed["status"] == "confirmed"
    assert confirmed["confirmed_at"] <= confirmed["payment_due"] <= confirmed["start"]
    assert api.act(booking_id, "confirm") == (200, confirmed)  # the same click again
    status, error = api.act(booking_id, "decline")
    assert (status, error["error"]["code"]) == (409, "conflict")
    assert [e["type"] for e in bus_events(aws)] == ["booking.requested", "booking.confirmed"]


def test_an_admin_answers_for_any_gig(api):
    _, booking = api.request()
    status, declined = api.act(booking["booking_id"], "decline", user=ADMIN)
    assert (status, declined["status"]) == (200, "declined")


def test_the_student_cancels_a_pending_request_for_free_and_frees_the_slot(api, aws):
    _, booking = api.request()
    status, error = api.act(booking["booking_id"], "cancel", user=OTHER_STUDENT)
    assert status == 404, error
    status, error = api.act(booking["booking_id"], "cancel", user=TEACHER)  # a teacher declines instead
    assert status == 409, error
    status, cancelled = api.act(booking["booking_id"], "cancel", user=STUDENT, body={"reason": "changed plans"})
    assert status == 200, cancelled
    assert {k: cancelled[k] for k in ("status", "cancelled_by", "cancel_reason", "payment_status")} == {
        "status": "cancelled", "cancelled_by": "student", "cancel_reason": "changed plans", "payment_status": "unpaid"}
    assert api.act(booking["booking_id"], "confirm")[0] == 409
    assert api.request(user=OTHER_STUDENT)[0] == 201
    assert [e["type"] for e in bus_events(aws)] == ["booking.requested", "booking.cancelled", "booking.requested"]
