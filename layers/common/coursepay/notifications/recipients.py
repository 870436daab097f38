"""Who an e-mail about a user goes to: the e-mail address and name of their profile in the accounts table.

Events carry ids, never contact details (docs/events.md), so every notice reads the profile when it sends.
"""

from __future__ import annotations

from dataclasses import dataclass

from coursepay.accounts.repository import AccountsRepository
from coursepay.errors import NotFound


@dataclass(frozen=True)
class Recipient:
    user_id: str
    email: str
    name: str


class Recipients:
    def __init__(self, accounts: AccountsRepository) -> None:
        self._accounts = accounts

    def of(self, user_id: str) -> Recipient:
        profile = self._accounts.get_profile(user_id)
        if profile is None:
            # Raised so that the message is retried: the profile is written before any event about the user.
            raise NotFound(f"no profile for user {user_id}")
        return Recipient(user_id=user_id, email=profile.email, name=profile.name)
