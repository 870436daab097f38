"""How long money records are kept: payment and audit records expire 7 years after they are written
(docs/decisions.md, "Record retention"). DynamoDB's TTL deletes an item some time (usually days) after its
``expires_at`` (epoch seconds) has passed; the tables' TimeToLiveSpecification names that attribute."""

from __future__ import annotations

from datetime import datetime

from coursepay.clock import utc_now

RECORD_RETENTION_YEARS = 7
EXPIRY_ATTRIBUTE = "expires_at"


def record_expiry(written_at: datetime | None = None) -> int:
    """Epoch seconds ``RECORD_RETENTION_YEARS`` calendar years after ``written_at`` (now); 29 February -> 28."""
    moment = written_at or utc_now()
    year = moment.year + RECORD_RETENTION_YEARS
    try:
        expiry = moment.replace(year=year)
    except ValueError:
        expiry = moment.replace(year=year, day=28)
    return int(expiry.timestamp())
