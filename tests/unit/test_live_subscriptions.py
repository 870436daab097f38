"""The (student, course) live-subscription mark (coursepay.subscriptions.repository): every save of a subscription
moves it with the record, so a key read says what a query of the student's subscriptions would; the backfill marks
the subscriptions stored before the marks (moto)."""

from __future__ import annotations

import itertools
import json

from coursepay.storage.batches import BatchRead
from coursepay.subscriptions import backfill
from coursepay.subscriptions.models import LIVE_STATUSES, Subscription
from coursepay.subscriptions.repository import SubscriptionsRepository

# Stripe's subscription statuses
STATUSES = ("incomplete", "incomplete_expired", "trialing", "active", "past_due", "unpaid", "canceled", "paused")
STUDENT, OTHER_STUDENT = "student-1", "student-2"


def subscription(subscription_id: str, status: str, *, user_id: str = STUDENT,
                 course_id: str = "course-1") -> Subscription:
    return Subscription(subscription_id=subscription_id, user_id=user_id, course_id=course_id, status=status)


def marked_live(repository: SubscriptionsRepository, user_id: str, course_id: str) -> bool | None:
    batch = BatchRead()
    slot = repository.want_live(batch, user_id, course_id)
    batch.run()
    return slot.value


def live_by_query(repository: SubscriptionsRepository, user_id: str, course_id: str) -> bool:
    """What the checkout asked before the mark (gsi1): the semantics the mark keeps."""
    return any(s.course_id == course_id and s.live for s in repository.of_user(user_id))


def test_the_mark_follows_every_status_change_of_a_subscription(aws):
    repository = SubscriptionsRepository(aws.name("PaymentsTable"))
    assert marked_live(repository, STUDENT, "course-1") is None  # never subscribed: no mark
    for n, (before, after) in enumerate(itertools.product(STATUSES, repeat=2)):
        course_id = f"course-{n}"
        for status in (before, after):
            repository.save(subscription(f"sub_{n}", status, course_id=course_id))
            assert bool(marked_live(repository, STUDENT, course_id)) is (status in LIVE_STATUSES), (before, after)
            assert bool(marked_live(repository, STUDENT, course_id)) is live_by_query(repository, STUDENT, course_id)
        assert repository.get(f"sub_{n}").status == after  # the record moved with it


def test_the_mark_holds_while_any_of_the_students_subscriptions_to_the_course_is_live(aws):
    repository = SubscriptionsRepository(aws.name("PaymentsTable"))
    repository.save(subscription("sub_a", "active"))
    repository.save(subscription("sub_b", "active"))  # bought beside it (a race): cancelled by fulfilment later
    repository.save(subscription("sub_b", "canceled"))
    assert marked_live(repository, STUDENT, "course-1") is True  # sub_a still is
    repository.save(subscription("sub_a", "past_due"))
    assert marked_live(repository, STUDENT, "course-1") is True
    repository.save(subscription("sub_a", "unpaid"))
    assert marked_live(repository, STUDENT, "course-1") is False
    # a repeated save (the same event again) changes nothing
    repository.save(subscription("sub_a", "unpaid"))
    repository.save(subscription("sub_b", "canceled"))
    assert marked_live(repository, STUDENT, "course-1") is False
    # per student and course: another student's or course's subscription leaves this mark alone
    repository.save(subscription("sub_c", "active", user_id=OTHER_STUDENT))
    repository.save(subscription("sub_d", "active", course_id="course-2"))
    assert marked_live(repository, STUDENT, "course-1") is False
    assert (marked_live(repository, OTHER_STUDENT, "course-1"), marked_live(repository, STUDENT, "course-2")) == (
        True, True)
    assert marked_live(repository, OTHER_STUDENT, "course-2") is None


def stored_without_mark(repository: SubscriptionsRepository, sub: Subscription) -> None:
    """A record as saves wrote it before the marks existed (a plain put, no mark)."""
    repository.table.put({"pk": f"SUBSCRIPTION#{sub.subscription_id}", "sk": "SUBSCRIPTION",
                          **sub.model_dump(exclude_none=True), "amount": 1500,
                          "gsi1pk": f"USER#{sub.user_id}", "gsi1sk": f"SUBSCRIPTION#{sub.created_at}",
                          "gsi2pk": f"COURSE#{sub.course_id}", "gsi2sk": f"SUBSCRIPTION#{sub.subscription_id}"})


def test_the_backfill_marks_the_subscriptions_stored_before_the_marks(aws, capsys):
    repository = SubscriptionsRepository(aws.name("PaymentsTable"))
    stored_without_mark(repository, subscription("sub_old_live", "active"))
    stored_without_mark(repository, subscription("sub_old_ended", "canceled", course_id="course-2"))
    repository.save(subscription("sub_new", "past_due", course_id="course-3"))  # marked by its save already
    records = {item["pk"]: item for item in repository.records()}
    assert marked_live(repository, STUDENT, "course-1") is None  # the checkout would miss it

    assert backfill.main(["--table", aws.name("PaymentsTable")]) == 0
    assert json.loads(capsys.readouterr().out) == {"marked": 3, "skipped": 0}
    assert [marked_live(repository, STUDENT, course) for course in ("course-1", "course-2", "course-3")] == [
        True, False, True]
    assert {item["pk"]: item for item in repository.records()} == records  # the records are left as they were
    # again: nothing changes (ADD and DELETE of a set member are idempotent)
    assert backfill.backfill(repository) == {"marked": 3, "skipped": 0}
    assert {item["pk"]: item for item in repository.records()} == records


def test_the_backfill_skips_a_record_whose_status_changed_since_it_was_scanned(aws):
    repository = SubscriptionsRepository(aws.name("PaymentsTable"))
    stored_without_mark(repository, subscription("sub_1", "active"))
    stored_without_mark(repository, subscription("sub_2", "active", course_id="course-2"))
    scanned = {item["subscription_id"]: item for item in repository.records()}
    # Stripe's events, between the scan and the backfill's writes: a cancellation, and a change of another field
    repository.save(subscription("sub_1", "canceled"))
    repository.save(subscription("sub_2", "active", course_id="course-2").model_copy(
        update={"cancel_at_period_end": True}))
    assert repository.backfill_mark(scanned["sub_1"]) is False  # the stale "active" marks nothing
    assert marked_live(repository, STUDENT, "course-1") is False
    assert repository.get("sub_1").status == "canceled"
    assert repository.backfill_mark(scanned["sub_2"]) is True  # still active: the mark holds, the change stays
    assert marked_live(repository, STUDENT, "course-2") is True
    assert repository.get("sub_2").cancel_at_period_end is True
