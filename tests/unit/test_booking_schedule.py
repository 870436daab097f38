"""The booking lifecycle over time, on a fixed clock: the scheduled function (expiry, payment deadline,
reminder, auto-completion) run as of chosen moments, the teacher's completion and the student's problem report;
plus the booking rules' settings validated at the cold start."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta

import pytest
from pydantic import ValidationError

from coursepay.bookings.booking_repository import BookingsRepository
from coursepay.bookings.booking_requests import BookingRequest, ProblemReport
from coursepay.bookings.lifecycle import BookingService
from coursepay.bookings.recorder import BookingRecorder
from coursepay.bookings.repository import GigsRepository
from coursepay.bookings.rules import BookingRules
from coursepay.bookings.settings import BookingRulesSettings, BookingsSchedulerSettings
from coursepay.clock import iso_time
from coursepay.errors import Conflict
from coursepay.events.publisher import EventPublisher
from coursepay.identity import Principal
from coursepay.settings import load_settings
from coursepay.storage.audit import AuditTrail
from tests.unit.test_booking_api import store_gig
from tests.unit.test_webhook import queue_messages

T0 = datetime.fromisoformat("2027-03-01T08:00:00Z")  # a Monday
START = "2027-03-04T09:00:00Z"  # Thursday 10:00 in Berlin; ends 10:30 UTC (90 minutes)
STUDENT = Principal(user_id="student-1", groups=frozenset({"students"}))
TEACHER = Principal(user_id="teacher-1", groups=frozenset({"teachers"}))


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now


class Lifecycle:
    def __init__(self, aws, scheduler_function, context) -> None:
        store_gig(aws)
        self.aws = aws
        self.clock = Clock()
        self.repository = BookingsRepository(aws.name("BookingsTable"))
        settings = load_settings(BookingsSchedulerSettings)  # what the scheduler function reads: the template's
        recorder = BookingRecorder(AuditTrail(aws.name("AuditTable")), EventPublisher(aws.name("EventBus")).publish)
        self.service = BookingService(self.repository, GigsRepository(aws.name("BookingsTable")), recorder,
                                      BookingRules.from_settings(settings), clock=self.clock)
        self.scheduler = scheduler_function
        self.context = context

    def book(self, student: Principal = STUDENT) -> str:
        request = BookingRequest(gig_id="gig_algebra", start=START, duration_minutes=90)
        return self.service.request(student, request, None).booking_id

    def run(self, at: datetime) -> dict:
        return self.scheduler.lambda_handler({"time": iso_time(at)}, self.context)

    def pay(self, booking_id: str) -> None:  # what payments does when the payment succeeded
        self.repository.transition(booking_id, {"confirmed"}, {"payment_status": "paid"})

    def status(self, booking_id: str) -> str:
        booking = self.repository.get(booking_id)
        assert booking is not None
        return booking.status

    def events(self) -> list[str]:
        return [message["detail"]["type"] for message in queue_messages(self.aws, "NotificationsQueue")
                if message["source"] == "coursepay.bookings"]


@pytest.fixture
def life(aws, load_function, lambda_context) -> Lifecycle:
    return Lifecycle(aws, load_function("BookingsSchedulerFunction", "bookings_scheduler"), lambda_context)


def test_an_unanswered_request_expires_at_respond_by_once_and_frees_its_slot(life):
    booking_id = life.book()
    assert life.repository.get(booking_id).respond_by == "2027-03-02T08:00:00.000Z"  # 24 h (the template's)
    assert life.run(T0 + timedelta(hours=23, minutes=59))["expired"] == 0
    assert life.status(booking_id) == "pending"
    life.clock.now = T0 + timedelta(hours=24)
    with pytest.raises(Conflict, match="expired"):  # the sweep has not run yet: the teacher is still too late
        life.service.confirm(TEACHER, booking_id)
    assert life.run(T0 + timedelta(hours=24))["expired"] == 1
    assert life.status(booking_id) == "expired"
    assert life.run(T0 + timedelta(hours=25))["expired"] == 0  # no longer due
    assert life.repository.slot_holder("teacher-1", "2027-03-04T09:00:00.000Z") is None
    assert life.events() == ["booking.requested", "booking.expired"]


def test_a_confirmed_booking_unpaid_by_the_deadline_is_cancelled_but_a_paid_one_is_not(life):
    first = life.book()
    second_request = BookingRequest(gig_id="gig_algebra", start="2027-03-04T12:00:00Z", duration_minutes=60)
    second = life.service.request(Principal(user_id="student-2"), second_request, None).booking_id
    life.clock.now = T0 + timedelta(hours=1)
    for booking_id in (first, second):
        assert life.service.confirm(TEACHER, booking_id).payment_due == "2027-03-02T09:00:00.000Z"
    life.pay(second)
    assert life.run(T0 + timedelta(hours=24, minutes=59))["payment_deadline_cancelled"] == 0
    report = life.run(T0 + timedelta(hours=25))
    assert report["payment_deadline_cancelled"] == 1
    cancelled = life.repository.get(first)
    assert (cancelled.status, cancelled.cancelled_by) == ("cancelled", "system")
    assert life.status(second) == "confirmed"
    assert life.events().count("booking.cancelled") == 1


def test_a_paid_booking_gets_one_reminder_then_completes_after_the_end(life):
    booking_id = life.book()
    life.service.confirm(TEACHER, booking_id)
    life.pay(booking_id)
    before_start = datetime.fromisoformat(START) - timedelta(hours=24)
    assert life.run(before_start - timedelta(minutes=1))["reminders"] == 0
    assert life.run(before_start)["reminders"] == 1
    assert life.run(before_start + timedelta(hours=1))["reminders"] == 0  # once
    end = datetime.fromisoformat("2027-03-04T10:30:00Z")
    assert life.run(end + timedelta(hours=47))["completed"] == 0
    assert life.run(end + timedelta(hours=48))["completed"] == 1
    completed = life.repository.get(booking_id)
    assert (completed.status, completed.completed_at) == ("completed", "2027-03-06T10:30:00.000Z")
    assert life.events() == ["booking.requested", "booking.confirmed", "booking.reminder_due", "booking.completed"]


def test_a_reported_problem_stops_the_auto_completion(life):
    booking_id = life.book()
    life.service.confirm(TEACHER, booking_id)
    with pytest.raises(Conflict):  # not paid yet: nothing to report about
        life.service.report_problem(STUDENT, booking_id, ProblemReport(description="no show"))
    life.pay(booking_id)
    life.clock.now = datetime.fromisoformat("2027-03-04T10:00:00Z")
    reported = life.service.report_problem(STUDENT, booking_id, ProblemReport(description="the teacher never came"))
    assert reported.problem_reported
    assert life.run(datetime.fromisoformat("2027-03-10T00:00:00Z"))["completed"] == 0
    assert life.status(booking_id) == "confirmed"


def test_the_teacher_completes_a_paid_booking_after_its_end(life):
    booking_id = life.book()
    life.service.confirm(TEACHER, booking_id)
    with pytest.raises(Conflict, match="not paid"):
        life.service.complete(TEACHER, booking_id)
    life.pay(booking_id)
    life.clock.now = datetime.fromisoformat("2027-03-04T10:29:00Z")
    with pytest.raises(Conflict, match="ends at"):
        life.service.complete(TEACHER, booking_id)
    life.clock.now = datetime.fromisoformat("2027-03-04T10:30:00Z")
    assert life.service.complete(TEACHER, booking_id).status == "completed"
    assert life.service.complete(TEACHER, booking_id).status == "completed"  # the same click again
    assert life.events().count("booking.completed") == 1


def test_booking_rules_are_validated_when_read():
    assert BookingRulesSettings.model_validate({"booking_minimum_fees": "usd:100, eur:90,gbp:100"}
                                               ).booking_minimum_fees == {"usd": 100, "eur": 90, "gbp": 100}
    for bad in ({"booking_minimum_fees": "usd:100,eur:100"}, {"booking_minimum_fees": "usd=100"},
                {"booking_minimum_fees": "usd:0,eur:100,gbp:100"}, {"booking_fee_percent": "0"},
                {"request_expiry_hours": "0"}):
        with pytest.raises(ValidationError):
            BookingRulesSettings.model_validate(bad)


def test_two_students_racing_for_one_slot_through_the_service_one_booking(life):
    outcomes: dict[str, str] = {}
    barrier = threading.Barrier(2)
    request = BookingRequest(gig_id="gig_algebra", start=START, duration_minutes=60)

    def race(student_id: str) -> None:
        barrier.wait()
        try:
            outcomes[student_id] = life.service.request(Principal(user_id=student_id), request, None).booking_id
        except Conflict as refused:
            outcomes[student_id] = refused.code

    threads = [threading.Thread(target=race, args=(f"student-{n}",)) for n in (1, 2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes.values(), key=lambda outcome: outcome == "slot_taken")[1:] == ["slot_taken"]
    winner = next(student for student, outcome in outcomes.items() if outcome != "slot_taken")
    loser = next(student for student in outcomes if student != winner)
    assert life.repository.slot_holder("teacher-1", "2027-03-04T09:00:00.000Z") == outcomes[winner]
    assert life.repository.of_student(loser, limit=5, cursor=None).items == []
    assert life.repository.get(outcomes[winner]).student_id == winner
