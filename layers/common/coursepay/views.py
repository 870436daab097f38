"""The building blocks of the API's response views (``coursepay.api.responses`` sends them): ``PublicView``, the
base of a view written for responses, and ``Page``, the list envelope of every list route - ``{"items": [...],
"next_cursor": ...}`` (``next_cursor`` None: the last page). One generic model, so every list documents and
validates the same way: ``Page[GigView]``."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class PublicView(BaseModel):
    """A key the view does not declare is a mistake, not a detail: refused, so a view never grows by accident.
    A stored record extends its view with its internals (``class Gig(GigView): version``) and sets
    ``extra="ignore"`` again; ``@responds(GigView)`` sends a ``Gig`` as the view, without them."""

    model_config = ConfigDict(extra="forbid")


class Page[Item: BaseModel](BaseModel):
    items: list[Item]
    next_cursor: str | None = None
