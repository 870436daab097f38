"""Single-use account links: set a password (the payment-first welcome, a password reset) and verify an e-mail.

A link carries a random token (``secrets.token_urlsafe(32)``: 256 bits, so guessing is hopeless). Only its
SHA-256 is stored, so a read of the table (a backup, a log of an item) yields nothing that opens an account.

Items (accounts table):

* ``pk=TOKEN#<sha256>, sk=TOKEN``: ``user_id``, ``purpose``, ``issued_at``, ``expires_at`` (epoch seconds) and
  ``purge_at`` (the table's TTL removes it a while after it expired) - what a link's token names;
* ``pk=USER#<sub>, sk=TOKEN#<purpose>``: the user's *current* link of that purpose (``token_hash``,
  ``issued_at``, ``expires_at``, ``used_at`` once used).

A link works once, before it expires, and only while it is the current one: using it is one conditional write on
the current-link item (``token_hash = :this AND attribute_not_exists(used_at) AND expires_at > :now``), and issuing
a newer link overwrites that item, so two clicks on one link, or an old link after a newer one, lose the
condition whatever the timing. The set-password link of the welcome e-mail and a password reset share the purpose
``password``: a reset makes an unused welcome link stop working.
"""

from __future__ import annotations

import contextlib
import hashlib
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from coursepay.errors import ConditionFailed, InvalidRequest
from coursepay.storage.dynamo import DynamoTable

Purpose = Literal["password", "verify_email"]
PURPOSES: tuple[Purpose, ...] = ("password", "verify_email")
PURGE_AFTER_EXPIRY_SECONDS = 30 * 24 * 3600  # kept a while so that a late click is told "expired", not "unknown"


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _token_key(digest: str) -> dict[str, str]:
    return {"pk": f"TOKEN#{digest}", "sk": "TOKEN"}


def _current_key(user_id: str, purpose: Purpose) -> dict[str, str]:
    return {"pk": f"USER#{user_id}", "sk": f"TOKEN#{purpose}"}


@dataclass(frozen=True)
class UsedLink:
    """A link that has just been used: whose it was, and what ``release`` needs if the action then failed."""

    user_id: str
    purpose: Purpose
    digest: str
    used_at: int


def _refused(code: str, message: str) -> InvalidRequest:
    return InvalidRequest(message, field="token", code=code)


class AccountLinks:
    def __init__(self, table_name: str, clock: Callable[[], float] = time.time) -> None:
        self._table = DynamoTable(table_name)
        self._clock = clock

    def issue(self, user_id: str, purpose: Purpose, *, valid_for_seconds: int, cooldown_seconds: int = 0) -> str | None:
        """A new link's token (the previous link of this purpose stops working), or None when the previous one
        was issued less than ``cooldown_seconds`` ago (repeated requests do not flood an inbox)."""
        token = secrets.token_urlsafe(32)
        digest = token_hash(token)
        now = int(self._clock())
        expires_at = now + valid_for_seconds
        try:
            self._table.put({**_current_key(user_id, purpose), "token_hash": digest, "issued_at": now,
                             "expires_at": expires_at},
                            condition="attribute_not_exists(pk) OR issued_at <= :cutoff",
                            values={":cutoff": now - cooldown_seconds})
        except ConditionFailed:
            return None
        # Written after the current-link item: a crash in between leaves a current link nobody can name, never a
        # token that works without being current.
        self._table.put_new({**_token_key(digest), "user_id": user_id, "purpose": purpose, "issued_at": now,
                             "expires_at": expires_at, "purge_at": expires_at + PURGE_AFTER_EXPIRY_SECONDS})
        return token

    def use(self, token: str, purpose: Purpose) -> UsedLink:
        """Marks the link used (once); InvalidRequest naming ``token`` when it is unknown, expired, used already
        or replaced by a newer one."""
        digest = token_hash(token)
        item = self._table.get(_token_key(digest))
        if item is None or item.get("purpose") != purpose:
            raise _refused("token_unknown", "this link is not valid; ask for a new one")
        user_id = str(item["user_id"])
        now = int(self._clock())
        try:
            self._table.update(_current_key(user_id, purpose), set_fields={"used_at": now},
                               condition="token_hash = :digest AND attribute_not_exists(used_at) AND expires_at > :now",
                               values={":digest": digest, ":now": now})
        except ConditionFailed:
            raise self._why_refused(self._table.get(_current_key(user_id, purpose)), digest, now) from None
        return UsedLink(user_id=user_id, purpose=purpose, digest=digest, used_at=now)

    def release(self, used: UsedLink) -> None:
        """Makes a link usable again after the action it was used for failed (a password Cognito refused)."""
        with contextlib.suppress(ConditionFailed):  # a newer link replaced it meanwhile: that one stands
            self._table.update(_current_key(used.user_id, used.purpose), set_fields={"released_at": used.used_at},
                               remove=("used_at",), condition="token_hash = :digest AND used_at = :used",
                               values={":digest": used.digest, ":used": used.used_at})

    def forget_user(self, user_id: str) -> None:
        """Removes every link of the user (account deletion): their tokens then answer "unknown"."""
        for purpose in PURPOSES:
            current = self._table.get(_current_key(user_id, purpose))
            if current is not None:
                self._table.delete(_token_key(str(current["token_hash"])))
                self._table.delete(_current_key(user_id, purpose))

    @staticmethod
    def _why_refused(current: dict[str, Any] | None, digest: str, now: int) -> InvalidRequest:
        if current is None:
            return _refused("token_unknown", "this link is not valid; ask for a new one")
        if current.get("token_hash") != digest:
            return _refused("token_superseded", "a newer link was sent since this one; use the newest e-mail")
        if "used_at" in current:
            return _refused("token_used", "this link was used already; it works once")
        if int(current["expires_at"]) <= now:
            return _refused("token_expired", "this link has expired; ask for a new one")
        return _refused("token_unknown", "this link is not valid; ask for a new one")
