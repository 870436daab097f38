"""Payment-first sign-up records: what the success page polls.

Keys (payments table): ``pk=SIGNUP#<checkout session id>, sk=SIGNUP``. Created with the anonymous Checkout
Session (``awaiting_payment``); the fulfilment consumer sets ``ready`` (with the account's user id; the e-mail is
read from the profile, never copied here) only after the account exists, the payment is recorded and the student
is enrolled; ``failed``/``expired`` when Stripe says so.
"""

from __future__ import annotations

import contextlib
from typing import Any, Literal

from pydantic import BaseModel, Field

from coursepay.clock import iso_now
from coursepay.errors import ConditionFailed
from coursepay.storage.dynamo import DynamoTable, item_to_model

SignupStatus = Literal["awaiting_payment", "ready", "failed", "expired"]


class Signup(BaseModel):
    session_id: str
    track_id: str
    status: SignupStatus = "awaiting_payment"
    user_id: str | None = None
    created_at: str = Field(default_factory=iso_now)
    updated_at: str = Field(default_factory=iso_now)


def _key(session_id: str) -> dict[str, str]:
    return {"pk": f"SIGNUP#{session_id}", "sk": "SIGNUP"}


class SignupsRepository:
    def __init__(self, payments_table: str) -> None:
        self._table = DynamoTable(payments_table)

    def create(self, signup: Signup) -> None:
        with contextlib.suppress(ConditionFailed):  # the same session again (a retry): the first record stands
            self._table.put_new({**_key(signup.session_id), **signup.model_dump(exclude_none=True)})

    def get(self, session_id: str) -> Signup | None:
        item = self._table.get(_key(session_id))
        if not item:
            return None
        return item_to_model(Signup, item)

    def claim_recovery_check(self, session_id: str, *, now: int, every_seconds: int) -> bool:
        """True for the one caller that may ask Stripe about this sign-up now (at most once per
        ``every_seconds``, however many success pages poll at once: a conditional write)."""
        try:
            self._table.update(_key(session_id), set_fields={"recovery_checked_at": now},
                               condition="attribute_exists(pk) AND (attribute_not_exists(recovery_checked_at) "
                                         "OR recovery_checked_at <= :due)",
                               values={":due": now - every_seconds})
        except ConditionFailed:
            return False
        return True

    def finish(self, session_id: str, status: SignupStatus, **fields: Any) -> None:
        """Move to a final state; ``ready`` is never undone (a late failure event changes nothing)."""
        with contextlib.suppress(ConditionFailed):
            self._table.update(_key(session_id), set_fields={"status": status, "updated_at": iso_now(), **fields},
                               condition="attribute_exists(pk) AND #st <> :ready", names={"#st": "status"},
                               values={":ready": "ready"})
