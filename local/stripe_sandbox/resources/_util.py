"""Helpers shared by resource modules."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..app import Obj, Sandbox, previous_attributes
from ..errors import invalid
from ..router import Request


def update_with_event(app: Sandbox, obj: Obj, mutate: Callable[[], None], event_type: str | None = None) -> Obj:
    """Apply ``mutate`` and, if the rendered object changed, emit ``<type>.updated`` with previous_attributes."""
    before = app.render(obj)
    mutate()
    after = app.render(obj)
    prev = previous_attributes(before, after)
    if prev:
        if "updated" in obj:
            obj["updated"] = app.now()
        app.emit(event_type or f"{obj['object']}.updated", obj, prev)
    return obj


def nullable_str(value: Any, param: str) -> str | None:
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise invalid(param, f"Invalid string: {value!r}", "parameter_invalid_string")
    return value


EMPTY_ADDRESS: dict[str, Any] = {
    "city": None, "country": None, "line1": None, "line2": None, "postal_code": None, "state": None,
}


def address(value: Any) -> dict[str, Any] | None:
    if not isinstance(value, dict):
        return None
    return {k: (value.get(k) or None) for k in EMPTY_ADDRESS}


def filtered_list(req: Request, kind: str, url: str, filters: tuple[str, ...] = ()) -> Obj:
    """A list of the current account's ``kind``: pagination, ``created``, equality on each of ``filters``;
    any other parameter is rejected (``parameter_unknown``)."""
    app, p = req.app, req.p
    p.allow("limit", "starting_after", "ending_before", "created", *filters)
    objs = app.store.all(kind)
    for key in filters:
        value = p.str(key)
        if value is not None:
            objs = [o for o in objs if o.get(key) == value]
    return app.list_response(objs, p, url)
