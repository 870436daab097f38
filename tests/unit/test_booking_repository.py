"""The bookings repository on the BookingsTable of template.yaml (moto): slot locks written with the booking in
one transaction (the race for a slot has one winner), conditional transitions, release of the slots, the
sparse due index."""

from __future__ import annotations

import threading

import pytest

from coursepay.bookings.booking_repository import DUE_PARTITION, BookingsRepository, slot_starts
from coursepay.bookings.bookings import Booking
from coursepay.errors import ConditionFailed, NotFound

NOW = "2026-12-01T08:00:00.000Z"


def booking(booking_id: str = "bk_1", *, student: str = "student-1", start: str = "2026-12-07T09:00:00.000Z",
            end: str = "2026-12-07T10:30:00.000Z", minutes: int = 90, **fields) -> Booking:
    return Booking.model_validate({
        "booking_id": booking_id, "gig_id": "gig_1", "gig_title": "Algebra", "teacher_id": "teacher-1",
        "student_id": student, "start": start, "end": end, "duration_minutes": minutes, "time_zone": "Europe/Berlin",
        "currency": "usd", "base_amount": 7500, "fee_amount": 375, "total_amount": 7875, "requested_at": NOW,
        "respond_by": "2026-12-02T08:00:00.000Z", "created_at": NOW, "updated_at": NOW, **fields})


@pytest.fixture
def repository(aws) -> BookingsRepository:
    return BookingsRepository(aws.name("BookingsTable"))


def test_slots_are_the_quarter_hours_the_booking_covers():
    assert slot_starts("2026-12-07T09:00:00.000Z", 45) == [
        "2026-12-07T09:00:00.000Z", "2026-12-07T09:15:00.000Z", "2026-12-07T09:30:00.000Z"]


def test_create_stores_the_booking_and_locks_each_slot(repository):
    repository.create(booking())
    assert repository.get("bk_1") == booking()
    holders = [repository.slot_holder("teacher-1", slot) for slot in slot_starts("2026-12-07T09:00:00.000Z", 90)]
    assert holders == ["bk_1"] * 6
    assert repository.slot_holder("teacher-1", "2026-12-07T10:30:00.000Z") is None  # the end is free


def test_an_overlapping_booking_of_the_same_teacher_is_refused_and_leaves_nothing(repository):
    repository.create(booking())
    with pytest.raises(ConditionFailed):
        repository.create(booking("bk_2", student="student-2", start="2026-12-07T10:15:00.000Z",
                                  end="2026-12-07T11:15:00.000Z", minutes=60))
    assert repository.get("bk_2") is None
    assert repository.slot_holder("teacher-1", "2026-12-07T10:45:00.000Z") is None  # no half-written locks


def test_two_students_racing_for_one_slot_one_wins(repository):
    outcomes: dict[str, str] = {}
    barrier = threading.Barrier(2)

    def request(booking_id: str, student: str) -> None:
        barrier.wait()
        try:
            repository.create(booking(booking_id, student=student))
            outcomes[booking_id] = "won"
        except ConditionFailed:
            outcomes[booking_id] = "lost"

    threads = [threading.Thread(target=request, args=(f"bk_{n}", f"student-{n}")) for n in (1, 2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes.values()) == ["lost", "won"]
    winner = next(booking_id for booking_id, outcome in outcomes.items() if outcome == "won")
    loser = next(booking_id for booking_id, outcome in outcomes.items() if outcome == "lost")
    assert repository.get(loser) is None
    assert repository.slot_holder("teacher-1", "2026-12-07T09:00:00.000Z") == winner


def test_transition_is_conditional_on_the_status_and_the_version(repository):
    repository.create(booking())
    confirmed = repository.transition("bk_1", {"pending"}, {"status": "confirmed", "confirmed_at": NOW},
                                      expected_version=1)
    assert (confirmed.status, confirmed.version) == ("confirmed", 2)
    assert repository.get("bk_1") == confirmed
    with pytest.raises(ConditionFailed):  # a second answer to the same request
        repository.transition("bk_1", {"pending"}, {"status": "declined"})
    with pytest.raises(ConditionFailed):  # a write based on a stale read
        repository.transition("bk_1", {"confirmed"}, {"payment_status": "processing"}, expected_version=1)
    with pytest.raises(NotFound):
        repository.transition("bk_404", {"pending"}, {"status": "declined"})
    with pytest.raises(ValueError, match="payment_stat"):  # a misspelt field is refused, not dropped
        repository.transition("bk_1", {"confirmed"}, {"payment_stat": "paid"})


def test_leaving_the_live_states_releases_the_slots_for_another_booking(repository):
    repository.create(booking())
    repository.transition("bk_1", {"pending"}, {"status": "declined"})
    assert repository.slot_holder("teacher-1", "2026-12-07T09:00:00.000Z") is None
    repository.create(booking("bk_2", student="student-2"))
    assert repository.slot_holder("teacher-1", "2026-12-07T09:00:00.000Z") == "bk_2"


def test_the_due_index_holds_only_bookings_with_a_next_step(repository, aws):
    repository.create(booking())  # pending: due when the request expires
    repository.create(booking("bk_2", start="2026-12-08T09:00:00.000Z", end="2026-12-08T10:30:00.000Z"))
    repository.transition("bk_2", {"pending"}, {"status": "declined"})
    assert [b.booking_id for b in repository.due("2026-12-02T08:00:00.000Z")] == ["bk_1"]
    assert repository.due("2026-12-02T07:59:59.999Z") == []
    declined = aws.table("BookingsTable").get_item(Key={"pk": "BOOKING#bk_2", "sk": "BOOKING"})["Item"]
    assert "due_at" not in declined
    assert "due_pk" not in declined
    stored = aws.table("BookingsTable").get_item(Key={"pk": "BOOKING#bk_1", "sk": "BOOKING"})["Item"]
    assert (stored["due_pk"], stored["due_at"]) == (DUE_PARTITION, "2026-12-02T08:00:00.000Z")


def test_lists_are_newest_first_and_paged(repository):
    for n in range(3):
        repository.create(booking(f"bk_{n}", start=f"2026-12-0{n + 3}T09:00:00.000Z",
                                  end=f"2026-12-0{n + 3}T10:30:00.000Z", requested_at=f"2026-12-01T0{n}:00:00.000Z"))
    first = repository.of_student("student-1", limit=2, cursor=None)
    assert [b.booking_id for b in first.items] == ["bk_2", "bk_1"]
    rest = repository.of_student("student-1", limit=2, cursor=first.next_cursor)
    assert [b.booking_id for b in rest.items] == ["bk_0"]
    assert [b.booking_id for b in repository.of_teacher("teacher-1", limit=5, cursor=None).items] == [
        "bk_2", "bk_1", "bk_0"]
    assert len(repository.every(limit=5, cursor=None).items) == 3
    assert repository.of_student("student-2", limit=5, cursor=None).items == []
