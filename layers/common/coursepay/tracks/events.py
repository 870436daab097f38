"""Domain events of the tracks context (source ``coursepay.enrollment``; docs/events.md envelope v1).

Their ids are derived from the payment that caused them, so publishing again after a retry yields the same id
and every consumer, which claims ``<consumer>#<event id>``, acts once. They carry ids, never credentials or
contact details: consumers read what they need (the notifications consumer reads the profile).
"""

from __future__ import annotations

from pydantic import BaseModel

from coursepay.events.envelope import Envelope
from coursepay.tracks.catalogue import Tool, Track

ENROLLMENT_SOURCE = "coursepay.enrollment"
TRACK_ENROLLED = "track.enrollment.created"
TRACK_WITHDRAWN = "track.enrollment.withdrawn"


class TrackEnrolled(BaseModel):
    user_id: str
    track_id: str
    track_name: str
    payment_id: str
    first_project: str
    tools: list[Tool]


class TrackWithdrawn(BaseModel):
    user_id: str
    track_id: str
    track_name: str
    payment_id: str
    reason: str


def enrolled_envelope(user_id: str, track: Track, payment_id: str, correlation_id: str | None) -> Envelope:
    data = TrackEnrolled(user_id=user_id, track_id=track.track_id, track_name=track.name, payment_id=payment_id,
                         first_project=track.first_project.title, tools=list(track.tools))
    return Envelope(id=f"ev_track_enrolled_{payment_id}", source=ENROLLMENT_SOURCE, type=TRACK_ENROLLED,
                    correlation_id=correlation_id, data=data.model_dump(mode="json"))


def withdrawn_envelope(user_id: str, track: Track, payment_id: str, reason: str,
                       correlation_id: str | None) -> Envelope:
    data = TrackWithdrawn(user_id=user_id, track_id=track.track_id, track_name=track.name, payment_id=payment_id,
                          reason=reason)
    return Envelope(id=f"ev_track_withdrawn_{payment_id}", source=ENROLLMENT_SOURCE, type=TRACK_WITHDRAWN,
                    correlation_id=correlation_id, data=data.model_dump(mode="json"))
