"""One DynamoDB call at a time in moto, as DynamoDB applies each call atomically.

moto's DynamoDB backend is not thread-safe: TransactWriteItems deep-copies the tables it writes (to roll back)
while another request's thread may be writing them ("dictionary changed size during iteration"), so two
concurrent checkouts or two students racing for a slot could fail in moto where DynamoDB answers both. The
local stack's moto server handles requests in threads, and unit tests run concurrent invocations in threads:
both take this lock around every DynamoDB call. (moto runs under one GIL anyway: serialising costs little.)
"""

from __future__ import annotations

import threading
from functools import wraps
from typing import Any

_DYNAMODB_CALL = threading.Lock()


def apply() -> None:
    """Idempotent: wraps ``DynamoHandler.call_action`` once per process."""
    from moto.dynamodb.responses import DynamoHandler

    if getattr(DynamoHandler.call_action, "_one_at_a_time", False):
        return
    call_action = DynamoHandler.call_action

    @wraps(call_action)
    def one_at_a_time(self: Any) -> Any:
        with _DYNAMODB_CALL:
            return call_action(self)

    one_at_a_time._one_at_a_time = True  # type: ignore[attr-defined]
    DynamoHandler.call_action = one_at_a_time  # type: ignore[method-assign]
