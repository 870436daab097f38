"""A student's progress through a track (enrollments table, ``pk=USER#<user>, sk=progress#track#<track>``: one
item, every project and step with its state; no ``kind``/``status``, so enrollment queries never return it).

A project goes ``locked`` -> ``unlocked`` -> ``submitted`` (the student; submitting again replaces the
submission) -> ``completed`` (a teacher or admin), and completing project N unlocks project N+1 in the same
write. Every write is conditional on the ``version`` read: two teachers completing at once, or a submission racing
a completion, cannot lose one another (the loser gets a 409 and reads again).
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from coursepay.clock import iso_now
from coursepay.errors import ConditionFailed, Conflict, NotFound
from coursepay.storage.dynamo import DynamoTable, item_to_model
from coursepay.tracks.catalogue import Track

StepState = Literal["locked", "unlocked", "completed"]
ProjectState = Literal["locked", "unlocked", "submitted", "completed"]


class StepProgress(BaseModel):
    step_id: str
    title: str
    state: StepState = "locked"


class ProjectProgress(BaseModel):
    project_id: str
    title: str
    state: ProjectState = "locked"
    steps: list[StepProgress]
    submitted_at: str | None = None
    submission_url: str | None = None
    submission_note: str | None = None
    completed_at: str | None = None
    completed_by: str | None = None
    feedback: str | None = None


class TrackProgress(BaseModel):
    user_id: str
    track_id: str
    projects: list[ProjectProgress]
    version: int = 0
    updated_at: str = Field(default_factory=iso_now)

    def index_of(self, project_id: str) -> int:
        for index, project in enumerate(self.projects):
            if project.project_id == project_id:
                return index
        raise NotFound(f"no project {project_id} in track {self.track_id}", field="projectId")

    def submitted(self, project_id: str, *, url: str | None, note: str | None) -> TrackProgress:
        index = self.index_of(project_id)
        project = self.projects[index]
        if project.state not in ("unlocked", "submitted"):
            raise Conflict(f"project {project_id} is {project.state}: only an unlocked project can be submitted",
                           field="projectId", code=f"project_{project.state}")
        changed = project.model_copy(update={"state": "submitted", "submitted_at": iso_now(),
                                             "submission_url": url, "submission_note": note})
        return self._with(index, changed)

    def completed(self, project_id: str, *, by: str, feedback: str | None) -> TrackProgress:
        """Project ``project_id`` completed (every step with it) and the next one, if any, unlocked."""
        index = self.index_of(project_id)
        project = self.projects[index]
        if project.state != "submitted":
            raise Conflict(f"project {project_id} is {project.state}: only a submitted project can be completed",
                           field="projectId", code=f"project_{project.state}")
        now = iso_now()
        steps = [step.model_copy(update={"state": "completed"}) for step in project.steps]
        done = project.model_copy(update={"state": "completed", "completed_at": now, "completed_by": by,
                                          "feedback": feedback, "steps": steps})
        progress = self._with(index, done)
        following = progress.next_after(project_id)
        if following is not None and following.state == "locked":
            unlocked = following.model_copy(update={
                "state": "unlocked", "steps": [s.model_copy(update={"state": "unlocked"}) for s in following.steps]})
            progress = progress._with(index + 1, unlocked)
        return progress

    def next_after(self, project_id: str) -> ProjectProgress | None:
        index = self.index_of(project_id)
        return self.projects[index + 1] if index + 1 < len(self.projects) else None

    def _with(self, index: int, project: ProjectProgress) -> TrackProgress:
        projects = list(self.projects)
        projects[index] = project
        return self.model_copy(update={"projects": projects})


def initial_progress(user_id: str, track: Track) -> TrackProgress:
    """Every project of the track, with every step of the first one unlocked and the rest locked."""
    projects = []
    for index, project in enumerate(track.projects):
        state: StepState = "unlocked" if index == 0 else "locked"
        projects.append(ProjectProgress(project_id=project.project_id, title=project.title, state=state,
                                        steps=[StepProgress(step_id=step.step_id, title=step.title, state=state)
                                               for step in project.steps]))
    return TrackProgress(user_id=user_id, track_id=track.track_id, projects=projects)


def _progress_key(user_id: str, track_id: str) -> dict[str, str]:
    return {"pk": f"USER#{user_id}", "sk": f"progress#track#{track_id}"}


class ProgressRepository:
    def __init__(self, enrollments_table: str) -> None:
        self._table = DynamoTable(enrollments_table)

    def create(self, progress: TrackProgress) -> bool:
        """Store the initial progress; False if the student already has progress in this track (kept as is)."""
        try:
            self._table.put_new({**_progress_key(progress.user_id, progress.track_id),
                                 **progress.model_dump(mode="json")})
        except ConditionFailed:
            return False
        return True

    def get(self, user_id: str, track_id: str, *, consistent: bool = False) -> TrackProgress | None:
        item = self._table.get(_progress_key(user_id, track_id), consistent=consistent)
        return item_to_model(TrackProgress, item) if item else None

    def replace(self, progress: TrackProgress) -> TrackProgress:
        """Write ``progress`` (read at ``progress.version``) as the next version; ConditionFailed if another write
        came first. Items written before versions existed count as version 0."""
        stored = progress.model_copy(update={"version": progress.version + 1, "updated_at": iso_now()})
        self._table.put({**_progress_key(progress.user_id, progress.track_id), **stored.model_dump(mode="json")},
                        condition="attribute_exists(pk) AND (attribute_not_exists(version) OR version = :v)",
                        values={":v": progress.version})
        return stored
