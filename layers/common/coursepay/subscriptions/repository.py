"""Course subscriptions in the payments table (beside the payments they produce).

Items: ``pk=SUBSCRIPTION#<sub id>, sk=SUBSCRIPTION``; gsi1 ``USER#<user>`` / ``SUBSCRIPTION#<created_at>`` (a
student's subscriptions; the ``PAYMENT#`` sort prefix of the same partition holds their payments); gsi2
``COURSE#<course>`` / ``SUBSCRIPTION#<sub id>`` (a course's subscribers, for deactivation and price moves).

Beside them, one mark per (student, course): ``pk=USER#<user>, sk=LIVE_SUBSCRIPTION#<course>``, whose
``live_subscriptions`` set holds the ids of the student's live subscriptions to the course (``Subscription.live``).
Every save writes the record and moves its id in or out of the set in one transaction, so the mark says what the
records say, and a checkout reads it by key in its batch (``want_live``) instead of querying the records (gsi1).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from coursepay.clock import iso_now
from coursepay.errors import ConditionFailed
from coursepay.storage.batches import BatchRead, ConditionalPut, Slot, TransactUpdate, write_together
from coursepay.storage.dynamo import DynamoTable, Item, item_to_model
from coursepay.subscriptions.models import Subscription

SK = "SUBSCRIPTION"
LIVE_SET = "live_subscriptions"


def _key(subscription_id: str) -> dict[str, str]:
    return {"pk": f"SUBSCRIPTION#{subscription_id}", "sk": SK}


def _live_key(user_id: str, course_id: str) -> dict[str, str]:
    return {"pk": f"USER#{user_id}", "sk": f"LIVE_SUBSCRIPTION#{course_id}"}


def _from_item(item: dict[str, Any]) -> Subscription:
    return item_to_model(Subscription, item)


def _any_live(item: Item) -> bool:
    # DynamoDB drops a set attribute when its last member is deleted: no set, no live subscription
    return bool(item.get(LIVE_SET))


class SubscriptionsRepository:
    def __init__(self, table_name: str) -> None:
        self.table = DynamoTable(table_name)

    def get(self, subscription_id: str) -> Subscription | None:
        item = self.table.get(_key(subscription_id))
        return _from_item(item) if item else None

    def save(self, subscription: Subscription) -> None:
        """The record and the (student, course) mark, together (one TransactWriteItems): a later save of the same
        subscription replaces both, so the mark follows the records whatever the order of Stripe's events."""
        record = ConditionalPut(self.table, {
            **_key(subscription.subscription_id),
            **subscription.model_dump(exclude_none=True),
            "updated_at": iso_now(),
            "gsi1pk": f"USER#{subscription.user_id}", "gsi1sk": f"SUBSCRIPTION#{subscription.created_at}",
            "gsi2pk": f"COURSE#{subscription.course_id}", "gsi2sk": f"SUBSCRIPTION#{subscription.subscription_id}",
        })
        write_together([record, self._mark(subscription)])

    def _mark(self, subscription: Subscription) -> TransactUpdate:
        """The subscription's id into the (student, course) mark's set when it is live, out of it otherwise."""
        return TransactUpdate(
            self.table, _live_key(subscription.user_id, subscription.course_id),
            f"SET #user = :user, #course = :course {'ADD' if subscription.live else 'DELETE'} #live :id",
            values={":user": subscription.user_id, ":course": subscription.course_id,
                    ":id": {subscription.subscription_id}},
            names={"#user": "user_id", "#course": "course_id", "#live": LIVE_SET})

    def backfill_mark(self, item: Item) -> bool:
        """The mark of one stored subscription record (as scanned), for records saved before the marks existed:
        its update, on condition that the record's status is still the scanned one (checked in the same
        transaction; the record's status is set to what it is, nothing else written). False when it changed
        meanwhile: that save moved the mark itself, and the scanned status is stale."""
        same_status = TransactUpdate(self.table, _key(str(item["subscription_id"])), "SET #status = :seen",
                                     condition="#status = :seen", values={":seen": item["status"]},
                                     names={"#status": "status"})
        try:
            write_together([same_status, self._mark(_from_item(item))])
        except ConditionFailed:
            return False
        return True

    def records(self) -> Iterator[Item]:
        """Every subscription record: a scan of the whole table, for a one-off tool (no request reads it so)."""
        return self.table.scan_all(equals=("sk", SK))

    def want_live(self, batch: BatchRead, user_id: str, course_id: str) -> Slot[bool]:
        """Whether the student has a live subscription to the course, read in the caller's batch (None: no mark,
        so none ever was)."""
        return batch.want(self.table, _live_key(user_id, course_id), _any_live)

    def of_user(self, user_id: str) -> list[Subscription]:
        items = self.table.query_all(partition=("gsi1pk", f"USER#{user_id}"), sort_prefix=("gsi1sk", "SUBSCRIPTION#"),
                                     index="gsi1")
        return sorted((_from_item(item) for item in items), key=lambda s: s.created_at, reverse=True)

    def of_course(self, course_id: str) -> list[Subscription]:
        items = self.table.query_all(partition=("gsi2pk", f"COURSE#{course_id}"),
                                     sort_prefix=("gsi2sk", "SUBSCRIPTION#"), index="gsi2")
        return [_from_item(item) for item in items]
