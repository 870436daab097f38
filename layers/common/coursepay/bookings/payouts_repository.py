"""Teachers' payout accounts in the bookings table: ``pk=TEACHER#<teacher_id>, sk=PAYOUTS``; gsi1
``CONNECT#<acct_id>`` / ``PAYOUTS`` finds the record of a Connect account (``account.updated`` names the
account, not the teacher)."""

from __future__ import annotations

from typing import Any

from coursepay.bookings.models import PayoutAccount
from coursepay.errors import ConditionFailed
from coursepay.storage.dynamo import DynamoTable, item_to_model


def _key(teacher_id: str) -> dict[str, str]:
    return {"pk": f"TEACHER#{teacher_id}", "sk": "PAYOUTS"}


class PayoutAccountsRepository:
    def __init__(self, table_name: str) -> None:
        self.table = DynamoTable(table_name)

    def get(self, teacher_id: str) -> PayoutAccount | None:
        item = self.table.get(_key(teacher_id))
        return item_to_model(PayoutAccount, item) if item else None

    def create_once(self, account: PayoutAccount) -> tuple[PayoutAccount, bool]:
        """Store the teacher's account unless one is already stored; returns the stored one and whether it is
        this one."""
        item: dict[str, Any] = {**_key(account.teacher_id), **account.model_dump(),
                                "gsi1pk": f"CONNECT#{account.account_id}", "gsi1sk": "PAYOUTS"}
        try:
            self.table.put_new(item)
        except ConditionFailed:
            stored = self.get(account.teacher_id)
            if stored is None:  # pragma: no cover - the item that failed the condition cannot vanish
                raise
            return stored, False
        return account, True

    def teacher_of(self, account_id: str) -> str | None:
        items, _ = self.table.query_page(partition=("gsi1pk", f"CONNECT#{account_id}"), index="gsi1", limit=1)
        return str(items[0]["teacher_id"]) if items else None

    def record_state(self, teacher_id: str, state: dict[str, Any], *, state_at: int, updated_at: str,
                     same_second: bool = False) -> bool:
        """Apply ``state`` if it comes from an event newer than the one recorded (or, with ``same_second``, as
        new: a state read from Stripe itself); False if it is older."""
        operator = "<=" if same_second else "<"
        try:
            self.table.update(_key(teacher_id), set_fields={**state, "state_at": state_at, "updated_at": updated_at},
                              condition=f"attribute_exists(pk) AND state_at {operator} :event_created",
                              values={":event_created": state_at})
        except ConditionFailed:
            return False
        return True
