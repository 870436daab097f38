"""Requests and responses of the learning function (progress actions, the tools page, tool accounts)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from coursepay.text import MultilineText
from coursepay.tracks.progress import ProjectProgress
from coursepay.tracks.tools.interface import ProvisionedTool


class _Request(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


def _web_address(value: str | None) -> str | None:
    if value is not None and not value.startswith(("https://", "http://")):
        raise ValueError("an http(s) URL")
    return value


class SubmitProjectBody(_Request):
    submission_url: str | None = Field(default=None, min_length=8, max_length=500)
    note: MultilineText | None = Field(default=None, min_length=1, max_length=1000)

    _url = field_validator("submission_url")(_web_address)


class CompleteProjectBody(_Request):
    feedback: MultilineText | None = Field(default=None, min_length=1, max_length=2000)


class ProjectOutcome(BaseModel):
    """What a submit or complete answers: the project acted on, and the one it unlocked (if any)."""

    track_id: str
    user_id: str
    project: ProjectProgress
    unlocked: ProjectProgress | None = None
    projects: list[ProjectProgress]


class ToolCredentials(BaseModel):
    username: str
    password: str
    dsn: str | None = None  # PostgreSQL: a complete connection string


class ToolWithCredentials(ProvisionedTool):
    credentials: ToolCredentials | None = None


class ToolsPage(BaseModel):
    track_id: str
    state: Literal["pending", "provisioning", "provisioned", "revoked"]
    workspace: str | None = None
    tools: list[ToolWithCredentials] = Field(default_factory=list)
