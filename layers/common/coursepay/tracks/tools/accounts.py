"""The accounts a student has on the tools' services, as they entered them (today: their GitHub username).
AccountsTable, ``pk=USER#<user>, sk=TOOL_ACCOUNTS``; written by ``PUT /me/tool-accounts``, read by provisioning."""

from __future__ import annotations

import re

from pydantic import BaseModel, ConfigDict, Field, field_validator

from coursepay.clock import iso_now
from coursepay.storage.dynamo import DynamoTable, item_to_model

# GitHub's rule: 1-39 alphanumerics or single hyphens, not starting or ending with a hyphen
GITHUB_USERNAME = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9]|-(?=[A-Za-z0-9])){0,38}$")


class ToolAccounts(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    github_username: str | None = Field(default=None, max_length=39)

    @field_validator("github_username")
    @classmethod
    def _github(cls, value: str | None) -> str | None:
        if value is not None and not GITHUB_USERNAME.match(value):
            raise ValueError("a GitHub username: 1-39 letters, digits or single hyphens, not at either end")
        return value


class StoredToolAccounts(ToolAccounts):
    model_config = ConfigDict(extra="ignore")

    user_id: str
    updated_at: str = Field(default_factory=iso_now)


def _key(user_id: str) -> dict[str, str]:
    return {"pk": f"USER#{user_id}", "sk": "TOOL_ACCOUNTS"}


class ToolAccountsRepository:
    def __init__(self, accounts_table: str) -> None:
        self._table = DynamoTable(accounts_table)

    def get(self, user_id: str) -> StoredToolAccounts | None:
        item = self._table.get(_key(user_id))
        return item_to_model(StoredToolAccounts, item) if item else None

    def save(self, user_id: str, accounts: ToolAccounts) -> StoredToolAccounts:
        stored = StoredToolAccounts(user_id=user_id, **accounts.model_dump())
        self._table.put({**_key(user_id), **stored.model_dump(mode="json")})
        return stored
