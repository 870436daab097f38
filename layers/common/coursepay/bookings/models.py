from __future__ import annotations

from pydantic import BaseModel, Field


class Gig(BaseModel):
    gig_id: str
    teacher_id: str
    title: str
    description: str = ""
    hourly_rate: int = Field(gt=0)  # minor units per hour
    currency: str = "usd"
    active: bool = True
    created_at: str


class GigPage(BaseModel):
    items: list[Gig]
    next_cursor: str | None = None
