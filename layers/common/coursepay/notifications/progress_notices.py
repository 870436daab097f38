"""The e-mail of a track's progress: ``track.project.unlocked`` (a teacher or admin completed a project and the
next one is open). Template ``project_unlocked``; to the student's profile address."""

from __future__ import annotations

from coursepay.events.envelope import Envelope
from coursepay.notifications.postbox import Postbox
from coursepay.tracks.events import ProjectUnlocked


class ProgressNotices:
    def __init__(self, postbox: Postbox) -> None:
        self._postbox = postbox

    def on_project_unlocked(self, envelope: Envelope) -> None:
        event = ProjectUnlocked.model_validate(envelope.data)
        self._postbox.send_to_user(event.user_id, "project_unlocked", f"{event.project_title} is unlocked",
                                   track_name=event.track_name, completed_project=event.completed_project_title,
                                   project=event.project_title)
