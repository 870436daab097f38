"""The operator's ``--since``: an ISO 8601 time (``2026-05-01T10:00:00Z``; without a zone it is UTC) or a
duration back from now (``90s``, ``15m``, ``2h``, ``1d``, ``1h30m``)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from coursepay.errors import InvalidRequest

_DURATION = re.compile(r"(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?")


def parse_since(text: str, *, now: datetime) -> int:
    """Unix seconds of the earliest event ``created`` time to reconcile from."""
    value = text.strip()
    match = _DURATION.fullmatch(value)
    if value and match is not None:
        days, hours, minutes, seconds = (int(part or 0) for part in match.groups())
        return int((now - timedelta(days=days, hours=hours, minutes=minutes, seconds=seconds)).timestamp())
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise InvalidRequest(f"--since {text!r} is neither an ISO time nor a duration such as 2h or 1d30m",
                             field="since") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    if moment > now:
        raise InvalidRequest(f"--since {text!r} is in the future", field="since")
    return int(moment.timestamp())
