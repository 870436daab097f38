"""Domain events of the tracks context (source ``coursepay.enrollment``; docs/events.md envelope v1).

Their ids are derived from the payment that caused them, so publishing again after a retry yields the same id
and every consumer, which claims ``<consumer>#<event id>``, acts once. They carry ids, never credentials or
contact details: consumers read what they need (the notifications consumer reads the profile).
"""

from __future__ import annotations

from pydantic import BaseModel

from coursepay.correlation import traced
from coursepay.events.envelope import Envelope
from coursepay.tracks.catalogue import Tool, Track

ENROLLMENT_SOURCE = "coursepay.enrollment"
TRACK_ENROLLED = "track.enrollment.created"
TRACK_WITHDRAWN = "track.enrollment.withdrawn"
TRACK_PROJECT_UNLOCKED = "track.project.unlocked"
TOOL_ACCOUNTS_CHANGED = "track.tool_accounts.changed"


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


class ProjectUnlocked(BaseModel):
    """A teacher or admin completed ``completed_project_id``, which unlocked the next project of the track."""

    user_id: str
    track_id: str
    track_name: str
    completed_project_id: str
    completed_project_title: str
    project_id: str  # the project unlocked now
    project_title: str
    completed_by: str  # "user:<sub>" of the teacher or admin


class ToolAccountsChanged(BaseModel):
    """The student set their accounts on the tools' services (a GitHub username): invitations that waited go out."""

    user_id: str
    github_username: str | None


def enrolled_envelope(user_id: str, track: Track, payment_id: str, correlation_id: str | None) -> Envelope:
    data = TrackEnrolled(user_id=user_id, track_id=track.track_id, track_name=track.name, payment_id=payment_id,
                         first_project=track.first_project.title, tools=list(track.tools))
    return Envelope(id=f"ev_track_enrolled_{payment_id}", source=ENROLLMENT_SOURCE, type=TRACK_ENROLLED,
                    correlation_id=traced(correlation_id), data=data.model_dump(mode="json"))


def withdrawn_envelope(user_id: str, track: Track, payment_id: str, reason: str,
                       correlation_id: str | None) -> Envelope:
    data = TrackWithdrawn(user_id=user_id, track_id=track.track_id, track_name=track.name, payment_id=payment_id,
                          reason=reason)
    return Envelope(id=f"ev_track_withdrawn_{payment_id}", source=ENROLLMENT_SOURCE, type=TRACK_WITHDRAWN,
                    correlation_id=traced(correlation_id), data=data.model_dump(mode="json"))


def project_unlocked_envelope(data: ProjectUnlocked, correlation_id: str | None) -> Envelope:
    # One unlock per (student, track, project) ever: a repeated completion publishes the same id again.
    return Envelope(id=f"ev_track_project_unlocked_{data.user_id}_{data.track_id}_{data.project_id}",
                    source=ENROLLMENT_SOURCE, type=TRACK_PROJECT_UNLOCKED, correlation_id=traced(correlation_id),
                    data=data.model_dump(mode="json"))


def tool_accounts_envelope(data: ToolAccountsChanged, changed_at: str, correlation_id: str | None) -> Envelope:
    return Envelope(id=f"ev_tool_accounts_{data.user_id}_{changed_at}", source=ENROLLMENT_SOURCE,
                    type=TOOL_ACCOUNTS_CHANGED, correlation_id=traced(correlation_id),
                    data=data.model_dump(mode="json"))
