"""Course subscriptions in the payments table (beside the payments they produce).

Items: ``pk=SUBSCRIPTION#<sub id>, sk=SUBSCRIPTION``; gsi1 ``USER#<user>`` / ``SUBSCRIPTION#<created_at>`` (a
student's subscriptions; the ``PAYMENT#`` sort prefix of the same partition holds their payments); gsi2
``COURSE#<course>`` / ``SUBSCRIPTION#<sub id>`` (a course's subscribers, for deactivation and price moves).
"""

from __future__ import annotations

from typing import Any

from coursepay.clock import iso_now
from coursepay.storage.dynamo import DynamoTable, item_to_model
from coursepay.subscriptions.models import Subscription

SK = "SUBSCRIPTION"


def _key(subscription_id: str) -> dict[str, str]:
    return {"pk": f"SUBSCRIPTION#{subscription_id}", "sk": SK}


def _from_item(item: dict[str, Any]) -> Subscription:
    return item_to_model(Subscription, item)


class SubscriptionsRepository:
    def __init__(self, table_name: str) -> None:
        self.table = DynamoTable(table_name)

    def get(self, subscription_id: str) -> Subscription | None:
        item = self.table.get(_key(subscription_id))
        return _from_item(item) if item else None

    def save(self, subscription: Subscription) -> None:
        self.table.put({
            **_key(subscription.subscription_id),
            **subscription.model_dump(exclude_none=True),
            "updated_at": iso_now(),
            "gsi1pk": f"USER#{subscription.user_id}", "gsi1sk": f"SUBSCRIPTION#{subscription.created_at}",
            "gsi2pk": f"COURSE#{subscription.course_id}", "gsi2sk": f"SUBSCRIPTION#{subscription.subscription_id}",
        })

    def of_user(self, user_id: str) -> list[Subscription]:
        items = self.table.query_all(partition=("gsi1pk", f"USER#{user_id}"), sort_prefix=("gsi1sk", "SUBSCRIPTION#"),
                                     index="gsi1")
        return sorted((_from_item(item) for item in items), key=lambda s: s.created_at, reverse=True)

    def of_course(self, course_id: str) -> list[Subscription]:
        items = self.table.query_all(partition=("gsi2pk", f"COURSE#{course_id}"),
                                     sort_prefix=("gsi2sk", "SUBSCRIPTION#"), index="gsi2")
        return [_from_item(item) for item in items]
