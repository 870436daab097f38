"""Events (retrieve, list with ``type``/``types`` and ``created`` filters)."""

from __future__ import annotations

import fnmatch

from ..app import Obj
from ..router import Request, api, retrieve_route

retrieve_route("/v1/events/{id}", "event")


@api("GET", "/v1/events")
def events_list(req: Request) -> Obj:
    app, p = req.app, req.p
    objs = app.store.all("event")
    type_ = p.str("type")
    if type_:
        objs = [e for e in objs if fnmatch.fnmatchcase(e["type"], type_)]
    types = [str(t) for t in p.list("types")]
    if types:
        objs = [e for e in objs if e["type"] in types]
    return app.list_response(objs, p, "/v1/events")
