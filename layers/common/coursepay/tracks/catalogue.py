"""The track catalogue: tracks are data (``data/tracks.json``), stored in the courses table under their own
key prefix and read from there by every function.

Keys (courses table): ``pk=TRACK#<track_id>, sk=TRACK``; gsi1 ``TRACKS`` / ``<sort_order:04d>#<track_id>`` (the
public list, in display order). Prices are integer minor units of ``currency``.
"""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from coursepay.storage.dynamo import DynamoTable, item_to_model

TRACK_ID = re.compile(r"^[A-Z][A-Z0-9]{0,15}$")
LIST_PARTITION = "TRACKS"


class _Data(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Step(_Data):
    step_id: str = Field(min_length=1, max_length=40)
    title: str = Field(min_length=1, max_length=200)


class Project(_Data):
    project_id: str = Field(min_length=1, max_length=40)
    title: str = Field(min_length=1, max_length=200)
    steps: tuple[Step, ...] = Field(min_length=1)


ToolKind = Literal["link", "postgres", "github", "discord", "hub"]


class Tool(_Data):
    """A tool every student of the track gets, provisioned by the adapter of its ``kind``
    (``coursepay.tracks.tools``): ``link`` completes ``url_template`` (``{workspace}``) and creates nothing;
    ``postgres`` a schema and login role; ``github`` a repository from ``template_repository`` (``owner/name``,
    the student's repository is made in the same organisation); ``discord`` a single-use invite to
    ``channel_id``; ``hub`` a user on the JupyterHub-style hub ``hub_id`` (``url_template`` completed with
    ``{username}`` is where the student opens it). Connection details and tokens live in each kind's secret,
    never here."""

    tool_id: str = Field(min_length=1, max_length=40)
    name: str = Field(min_length=1, max_length=80)
    kind: ToolKind = "link"
    url_template: str | None = Field(default=None, min_length=1, max_length=500)
    template_repository: str | None = Field(default=None, pattern=r"^[A-Za-z0-9-]+/[A-Za-z0-9._-]+$")
    channel_id: str | None = Field(default=None, pattern=r"^[0-9]{5,25}$")
    hub_id: str | None = Field(default=None, pattern=r"^[a-z][a-z0-9_]{0,39}$")

    @model_validator(mode="after")
    def _kind_needs(self) -> Tool:
        required = {"link": "url_template", "github": "template_repository", "discord": "channel_id",
                    "hub": "hub_id"}.get(self.kind)
        if required is not None and getattr(self, required) is None:
            raise ValueError(f"a {self.kind} tool needs {required}")
        return self


class Track(_Data):
    track_id: str
    name: str = Field(min_length=1, max_length=120)
    description: str = Field(min_length=1, max_length=2000)
    features: tuple[str, ...] = ()
    tools: tuple[Tool, ...] = ()
    price: int = Field(gt=0, le=99_999_999)  # minor units
    currency: str = Field(min_length=3, max_length=3)
    sort_order: int = Field(default=0, ge=0, le=9999)
    active: bool = True
    projects: tuple[Project, ...] = Field(min_length=1)

    @field_validator("track_id")
    @classmethod
    def _track_id(cls, value: str) -> str:
        if not TRACK_ID.match(value):
            raise ValueError("track ids are upper-case letters and digits, e.g. DP")
        return value

    @field_validator("currency")
    @classmethod
    def _currency(cls, value: str) -> str:
        return value.lower()

    @property
    def first_project(self) -> Project:
        return self.projects[0]


class TrackCatalogue(BaseModel):
    tracks: tuple[Track, ...]


def track_key(track_id: str) -> dict[str, str]:
    return {"pk": f"TRACK#{track_id}", "sk": "TRACK"}


def to_item(track: Track) -> dict[str, Any]:
    return {**track_key(track.track_id), "gsi1pk": LIST_PARTITION,
            "gsi1sk": f"{track.sort_order:04d}#{track.track_id}", "entity": "track", **track.model_dump(mode="json")}


def from_item(item: dict[str, Any]) -> Track:
    return item_to_model(Track, item)


class TracksRepository:
    def __init__(self, courses_table: str) -> None:
        self.table = DynamoTable(courses_table)

    def get(self, track_id: str) -> Track | None:
        if not TRACK_ID.match(track_id):
            return None
        item = self.table.get(track_key(track_id), consistent=False)
        return from_item(item) if item else None

    def get_raw(self, track_id: str) -> dict[str, Any] | None:
        return self.table.get(track_key(track_id))

    def list(self) -> list[Track]:
        items = self.table.query_all(partition=("gsi1pk", LIST_PARTITION), index="gsi1")
        return [from_item(item) for item in items]

    def put(self, track: Track) -> None:
        self.table.put(to_item(track))
