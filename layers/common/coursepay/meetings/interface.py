"""The meeting provider interface and what providers exchange.

``create_meeting`` may be called again for the same booking (an SQS redelivery, a crash before the booking was
written): the service asks for a meeting only while the booking has none and keeps the first one written
(a conditional write), handing a meeting that lost that race to ``discard_meeting``. Failures are raised:
``MeetingProviderUnavailable`` (down, rate-limited: a retry may fix it) and ``MeetingProviderRejected`` (refused:
a configuration error) both fail the SQS message, which is retried and after ``maxReceiveCount`` receives
lands in the DLQ.
"""

from __future__ import annotations

from typing import Protocol

from pydantic import BaseModel, ConfigDict

from coursepay.bookings.bookings import Meeting
from coursepay.errors import DomainError, UpstreamUnavailable

# The booking's ``meeting`` (the lifecycle's model): ``host_url`` starts it as the host (Zoom's ``start_url``),
# for the teacher only, never in the student's e-mail or the calendar invite.
__all__ = ["Meeting", "MeetingProvider", "MeetingProviderRejected", "MeetingProviderUnavailable", "MeetingSlot"]


class MeetingSlot(BaseModel):
    """What a provider needs to know of a booking."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    booking_id: str
    gig_title: str
    start: str  # ISO-8601 UTC, ...Z
    duration_minutes: int
    time_zone: str


class MeetingProviderUnavailable(UpstreamUnavailable):
    def __init__(self, message: str, *, retry_after_seconds: float | None = None) -> None:
        super().__init__(message)
        self.retry_after_seconds = retry_after_seconds


class MeetingProviderRejected(DomainError):
    code = "meeting_provider_rejected"


class MeetingProvider(Protocol):
    name: str

    def create_meeting(self, slot: MeetingSlot) -> Meeting: ...

    def discard_meeting(self, meeting: Meeting) -> None: ...
