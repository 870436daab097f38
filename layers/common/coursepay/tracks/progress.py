"""A student's progress through a track and the tools provisioned for them (enrollments table).

Keys: ``pk=USER#<user>, sk=progress#track#<track>`` (one item: every project and step with its state) and
``pk=USER#<user>, sk=tools#track#<track>`` (the tool set recorded by the provisioning consumer). Neither item has
``kind``/``status``, so enrollment queries never mistake them for enrollments.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from coursepay.clock import iso_now
from coursepay.errors import ConditionFailed
from coursepay.storage.dynamo import DynamoTable, item_to_model
from coursepay.tracks.catalogue import Track

StepState = Literal["locked", "unlocked", "completed"]


class StepProgress(BaseModel):
    step_id: str
    title: str
    state: StepState = "locked"


class ProjectProgress(BaseModel):
    project_id: str
    title: str
    state: StepState = "locked"
    steps: list[StepProgress]


class TrackProgress(BaseModel):
    user_id: str
    track_id: str
    projects: list[ProjectProgress]
    updated_at: str = Field(default_factory=iso_now)


class ProvisionedTool(BaseModel):
    tool_id: str
    name: str
    url: str


class ToolSet(BaseModel):
    user_id: str
    track_id: str
    state: Literal["provisioned", "revoked"] = "provisioned"
    workspace: str
    tools: list[ProvisionedTool]
    provisioned_at: str = Field(default_factory=iso_now)
    revoked_at: str | None = None


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


def _tools_key(user_id: str, track_id: str) -> dict[str, str]:
    return {"pk": f"USER#{user_id}", "sk": f"tools#track#{track_id}"}


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

    def get(self, user_id: str, track_id: str) -> TrackProgress | None:
        item = self._table.get(_progress_key(user_id, track_id), consistent=False)
        return item_to_model(TrackProgress, item) if item else None

    def save_tools(self, tools: ToolSet) -> None:
        self._table.put({**_tools_key(tools.user_id, tools.track_id), **tools.model_dump(mode="json")})

    def get_tools(self, user_id: str, track_id: str) -> ToolSet | None:
        item = self._table.get(_tools_key(user_id, track_id), consistent=False)
        return item_to_model(ToolSet, item) if item else None

    def revoke_tools(self, user_id: str, track_id: str) -> bool:
        try:
            self._table.update(_tools_key(user_id, track_id), set_fields={"state": "revoked", "revoked_at": iso_now()},
                               condition="attribute_exists(pk) AND #st = :provisioned", names={"#st": "state"},
                               values={":provisioned": "provisioned"})
        except ConditionFailed:
            return False
        return True
