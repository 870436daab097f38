"""Time in one place, so services can be given a fixed clock in tests."""

from __future__ import annotations

from datetime import UTC, datetime


def utc_now() -> datetime:
    return datetime.now(UTC)


def iso_time(moment: datetime) -> str:
    """The one text form of a time in storage: UTC, milliseconds, ``Z`` (sorts as it compares)."""
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def iso_now() -> str:
    return iso_time(utc_now())
