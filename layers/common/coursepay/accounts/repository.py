"""Account profiles in the accounts table.

Items: profile ``pk=USER#<sub>, sk=PROFILE`` (gsi1: ``EMAIL#<email>`` / ``USER``, for look-up by e-mail). A deleted
account's profile is a tombstone: ``user_id``, ``deleted_at`` and nothing personal (no e-mail, name, index keys).
The same partition holds the user's consents (``coursepay.accounts.consent``), account links
(``coursepay.accounts.tokens``) and Stripe Customer mapping (``coursepay.billing.customers``).
"""

from __future__ import annotations

from typing import Any

from coursepay.accounts.models import Profile
from coursepay.errors import ConditionFailed
from coursepay.storage.dynamo import DynamoTable, item_to_model

PROFILE = "PROFILE"
PERSONAL_FIELDS = ("email", "name", "gsi1pk", "gsi1sk", "terms_version", "terms_accepted_at", "email_verified")


def user_key(user_id: str) -> dict[str, str]:
    return {"pk": f"USER#{user_id}", "sk": PROFILE}


class AccountsRepository:
    def __init__(self, table_name: str) -> None:
        self.table = DynamoTable(table_name)

    def save_profile(self, profile: Profile) -> None:
        self.table.put({
            **user_key(profile.user_id),
            "gsi1pk": f"EMAIL#{profile.email}",
            "gsi1sk": "USER",
            **profile.model_dump(exclude={"groups"}, exclude_none=True),
        }, condition="attribute_not_exists(pk) OR email = :email", values={":email": profile.email})

    def get_profile(self, user_id: str) -> Profile | None:
        """The profile; None for an unknown or deleted account."""
        item = self.table.get(user_key(user_id))
        return _profile(item) if item and "deleted_at" not in item else None

    def get_item(self, user_id: str) -> dict[str, Any] | None:
        return self.table.get(user_key(user_id))

    def mark_email_verified(self, user_id: str) -> None:
        self.table.update(user_key(user_id), set_fields={"email_verified": True},
                          condition="attribute_exists(pk) AND attribute_not_exists(deleted_at)")

    def erase_profile(self, user_id: str, deleted_at: str) -> bool:
        """Replaces the profile by its tombstone; False when it was erased already (the first time stands)."""
        try:
            self.table.update(user_key(user_id), set_fields={"user_id": user_id, "deleted_at": deleted_at},
                              remove=PERSONAL_FIELDS, condition="attribute_not_exists(deleted_at)")
        except ConditionFailed:
            return False
        return True


def _profile(item: dict[str, Any]) -> Profile:
    return item_to_model(Profile, item)
