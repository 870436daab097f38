"""The building blocks of the API's response views (``coursepay.api.responses`` sends them): ``PublicView``, the
base of a view written for responses, and ``Page``, the list envelope of every list route - ``{"items": [...],
"next_cursor": ...}`` (``next_cursor`` None: the last page). One generic model, so every list documents and
validates the same way: ``Page[GigView]``. ``Query``, the base of every route's query-string model, and
``PageQuery``, the paging part of every list route's query string, the other side of that envelope."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator


class PublicView(BaseModel):
    """A key the view does not declare is a mistake, not a detail: refused, so a view never grows by accident.
    A stored record extends its view with its internals (``class Gig(GigView): version``) and sets
    ``extra="ignore"`` again; ``@responds(GigView)`` sends a ``Gig`` as the view, without them."""

    model_config = ConfigDict(extra="forbid")


class Page[Item: BaseModel](BaseModel):
    items: list[Item]
    next_cursor: str | None = None


class Query(BaseModel):
    """A route's query string, as the handler validates it (``parse_model``) and the OpenAPI document names it. A
    parameter sent empty (``?status=``, as a form sends a field left blank) counts as not sent: its default. A
    parameter the route does not know is a 400 naming it, on every route (a misspelt ``?limt=`` is not ignored)."""

    model_config = ConfigDict(extra="forbid")

    @model_validator(mode="before")
    @classmethod
    def _empty_is_absent(cls, data: Any) -> Any:
        return {name: value for name, value in data.items() if value != ""} if isinstance(data, dict) else data


class PageQuery(Query):
    """``?limit=&cursor=``: the same paging, with the same bounds, on every list route."""

    limit: int = Field(default=20, ge=1, le=100, description="How many items a page holds at most")
    cursor: str | None = Field(default=None, description="The previous page's next_cursor; absent: the first page")
