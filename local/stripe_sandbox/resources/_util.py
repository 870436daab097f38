"""Helpers shared by resource modules."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..app import Obj, Sandbox, previous_attributes
from ..errors import StripeError, invalid
from ..forms import metadata_update
from ..router import Request, api


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


def embedded_list(app: Sandbox, kind: str, link: str, parent_id: str, url: str) -> Obj:
    """The first page of a parent's children (``kind`` objects whose ``link`` is ``parent_id``), as embedded."""
    children = [o for o in app.store.all_any(kind) if o[link] == parent_id]
    return {"object": "list", "data": [app.render(o) for o in children[:10]], "has_more": len(children) > 10,
            "url": url}


def child_routes(base: str, segment: str, parent_kind: str, kind: str, link: str, label: str) -> None:
    """List (``GET {base}/{id}/{segment}``), retrieve and metadata update (``GET``/``POST
    {base}/{parent}/{segment}/{id}``) of ``kind`` objects whose ``link`` field names their parent."""

    def child(req: Request) -> Obj:
        parent = req.app.get(parent_kind, req.args["parent"], "id")
        obj = req.app.get(kind, req.args["id"])
        if obj[link] != parent["id"]:
            raise StripeError(404, f"No such {label}: '{obj['id']}'", code="resource_missing", param="id")
        return obj

    def list_children(req: Request) -> Obj:
        app, p = req.app, req.p
        p.allow("limit", "starting_after", "ending_before")
        parent = app.get(parent_kind, req.args["id"])
        objs = [o for o in app.store.all(kind) if o[link] == parent["id"]]
        return app.list_response(objs, p, f"{base}/{parent['id']}/{segment}")

    def retrieve_child(req: Request) -> Obj:
        req.p.allow()
        return req.app.render(child(req))

    def update_child(req: Request) -> Obj:
        req.p.allow("metadata")
        obj = child(req)
        obj["metadata"] = metadata_update(obj["metadata"], req.p.raw("metadata"))
        return req.app.render(obj)

    for fn, verb in ((list_children, "list"), (retrieve_child, "retrieve"), (update_child, "update")):
        fn.__name__ = f"{kind}_{verb}"
    api("GET", f"{base}/{{id}}/{segment}")(list_children)
    api("GET", f"{base}/{{parent}}/{segment}/{{id}}")(retrieve_child)
    api("POST", f"{base}/{{parent}}/{segment}/{{id}}")(update_child)
