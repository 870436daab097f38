"""Account profiles in the accounts table.

Items: profile ``pk=USER#<sub>, sk=PROFILE`` (gsi1: ``EMAIL#<email>`` / ``USER``, for look-up by e-mail).
"""

from __future__ import annotations

from typing import Any

from coursepay.accounts.models import Profile
from coursepay.storage.dynamo import DynamoTable, item_to_model

PROFILE = "PROFILE"


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
            "user_id": profile.user_id,
            "email": profile.email,
            "name": profile.name,
            "created_at": profile.created_at,
        }, condition="attribute_not_exists(pk) OR email = :email", values={":email": profile.email})

    def get_profile(self, user_id: str) -> Profile | None:
        item = self.table.get(user_key(user_id))
        return _profile(item) if item else None

    def get_item(self, user_id: str) -> dict[str, Any] | None:
        return self.table.get(user_key(user_id))


def _profile(item: dict[str, Any]) -> Profile:
    return item_to_model(Profile, item)
