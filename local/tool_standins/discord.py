"""Discord API v10 stand-in: ``POST /channels/{channel_id}/invites`` and ``DELETE /invites/{code}``, with
``Authorization: Bot <token>`` (401 otherwise), Discord's validation (``max_uses`` 0-100, ``max_age``
0-604800: 400 code 50035) and its unknown-object errors (404 code 10003 Unknown Channel, 10006 Unknown Invite).
Channels exist when added through the control route or at start."""

from __future__ import annotations

import secrets
import string
import threading
import time
from typing import Any

from local.tool_standins.http import Request, Response, Router

_CODE_ALPHABET = string.ascii_letters + string.digits


class DiscordStandin:
    def __init__(self, token: str) -> None:
        self._token = token
        self._lock = threading.Lock()
        self.channels: dict[str, dict[str, Any]] = {}
        self.invites: dict[str, dict[str, Any]] = {}
        self.router = Router()
        self.router.add("POST", "/channels/{channel_id}/invites", self.create_invite)
        self.router.add("DELETE", "/invites/{code}", self.delete_invite)

    def add_channel(self, channel_id: str, name: str = "general") -> None:
        with self._lock:
            self.channels[channel_id] = {"id": channel_id, "name": name, "type": 0, "guild_id": "1200000000000000001"}

    def state(self) -> dict[str, Any]:
        with self._lock:
            return {"channels": list(self.channels.values()), "invites": list(self.invites.values())}

    def check(self, request: Request) -> Response | None:
        if request.headers.get("authorization") != f"Bot {self._token}":
            return Response(401, {"message": "401: Unauthorized", "code": 0})
        return None

    def create_invite(self, request: Request, channel_id: str) -> Response:
        body = request.json_object()
        max_uses, max_age = body.get("max_uses", 0), body.get("max_age", 86400)
        errors = {}
        if not isinstance(max_uses, int) or not 0 <= max_uses <= 100:
            errors["max_uses"] = {"_errors": [{"code": "NUMBER_TYPE_MAX", "message": "int value should be <= 100."}]}
        if not isinstance(max_age, int) or not 0 <= max_age <= 604800:
            errors["max_age"] = {"_errors": [{"code": "NUMBER_TYPE_MAX",
                                              "message": "int value should be <= 604800."}]}
        if errors:
            return Response(400, {"code": 50035, "message": "Invalid Form Body", "errors": errors})
        with self._lock:
            channel = self.channels.get(channel_id)
            if channel is None:
                return Response(404, {"message": "Unknown Channel", "code": 10003})
            code = "".join(secrets.choice(_CODE_ALPHABET) for _ in range(10))
            now = time.time()
            invite = {"type": 0, "code": code, "channel": {"id": channel_id, "name": channel["name"], "type": 0},
                      "guild": {"id": channel["guild_id"], "name": "coursepay"}, "max_age": max_age,
                      "max_uses": max_uses, "uses": 0, "temporary": bool(body.get("temporary", False)),
                      "unique": bool(body.get("unique", False)),
                      "created_at": time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime(now)),
                      "expires_at": (time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime(now + max_age))
                                     if max_age else None)}
            self.invites[code] = invite
            return Response(200, dict(invite))

    def delete_invite(self, request: Request, code: str) -> Response:
        with self._lock:
            invite = self.invites.pop(code, None)
        return Response(200, invite) if invite else Response(404, {"message": "Unknown Invite", "code": 10006})
