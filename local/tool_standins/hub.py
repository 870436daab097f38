"""JupyterHub REST API stand-in, one per hub id under ``/hubs/<hub_id>``: ``POST /hub/api/users/{name}``
(201; 409 "already exists") and ``DELETE /hub/api/users/{name}`` (204; 404), with ``Authorization: token <t>``
(or ``Bearer``, which JupyterHub also accepts; 403 otherwise, as JupyterHub answers)."""

from __future__ import annotations

import threading
import time
from typing import Any

from local.tool_standins.http import Request, Response, Router


class HubStandin:
    def __init__(self, tokens: dict[str, str]) -> None:
        self._tokens = dict(tokens)  # hub id -> API token
        self._lock = threading.Lock()
        self.users: dict[str, dict[str, dict[str, Any]]] = {hub: {} for hub in tokens}
        self.router = Router()
        self.router.add("POST", "/{hub_id}/hub/api/users/{name}", self.create_user)
        self.router.add("DELETE", "/{hub_id}/hub/api/users/{name}", self.delete_user)

    def state(self) -> dict[str, Any]:
        with self._lock:
            return {hub: sorted(users) for hub, users in self.users.items()}

    def check(self, request: Request) -> Response | None:
        hub_id = request.path.split("/")[1] if request.path.count("/") > 1 else ""
        token = self._tokens.get(hub_id)
        if token is None:
            return Response(404, {"status": 404, "message": "Not Found"})
        if request.headers.get("authorization") not in (f"token {token}", f"Bearer {token}"):
            return Response(403, {"status": 403, "message": "Forbidden"})
        return None

    def create_user(self, request: Request, hub_id: str, name: str) -> Response:
        with self._lock:
            users = self.users[hub_id]
            if name in users:
                return Response(409, {"status": 409, "message": f"User {name} already exists"})
            now = time.strftime("%Y-%m-%dT%H:%M:%S.000000Z", time.gmtime())
            users[name] = {"kind": "user", "name": name, "admin": False, "roles": ["user"], "groups": [],
                           "server": None, "pending": None, "created": now, "last_activity": None, "servers": {}}
            return Response(201, dict(users[name]))

    def delete_user(self, request: Request, hub_id: str, name: str) -> Response:
        with self._lock:
            removed = self.users[hub_id].pop(name, None)
        return Response(204) if removed else Response(404, {"status": 404, "message": "Not Found"})
