"""Zoom stand-in under ``/zoom``: Server-to-Server OAuth (``POST /oauth/token?grant_type=account_credentials
&account_id=...`` with HTTP Basic ``client_id:client_secret``; 401 ``invalid_client``, 400 for another grant or
account) and the meetings API under ``/v2`` with ``Authorization: Bearer <token>`` (401 code 124 otherwise):
``POST /v2/users/{userId}/meetings`` (201; only ``me`` exists: 404 code 1001 otherwise; 400 code 300 for a bad
``start_time``/``duration``), ``GET`` and ``DELETE /v2/meetings/{meetingId}`` (200/204; 404 code 3001)."""

from __future__ import annotations

import base64
import itertools
import secrets
import threading
import time
from datetime import datetime
from typing import Any

from local.tool_standins.http import Request, Response, Router

TOKEN_SECONDS = 3600


class ZoomStandin:
    def __init__(self, account_id: str, client_id: str, client_secret: str, public_url: str) -> None:
        self._account_id = account_id
        self._basic = "Basic " + base64.b64encode(f"{client_id}:{client_secret}".encode()).decode()
        self._public_url = public_url  # where join/start links point (the stand-in's /zoom)
        self._lock = threading.Lock()
        self._tokens: set[str] = set()
        self._ids = itertools.count(81_000_000_001)
        self.token_requests = 0
        self.meetings: dict[str, dict[str, Any]] = {}
        self.router = Router()
        self.router.add("POST", "/oauth/token", self.issue_token)
        self.router.add("POST", "/v2/users/{user_id}/meetings", self.create_meeting)
        self.router.add("GET", "/v2/meetings/{meeting_id}", self.get_meeting)
        self.router.add("DELETE", "/v2/meetings/{meeting_id}", self.delete_meeting)

    def state(self) -> dict[str, Any]:
        with self._lock:
            return {"token_requests": self.token_requests, "meetings": [dict(m) for m in self.meetings.values()]}

    def revoke_tokens(self) -> None:
        """Every issued token stops working (the app was deactivated and enabled again)."""
        with self._lock:
            self._tokens.clear()

    def check(self, request: Request) -> Response | None:
        if request.path == "/oauth/token":
            return None  # its own answers (issue_token)
        token = request.headers.get("authorization", "").removeprefix("Bearer ")
        with self._lock:
            known = token in self._tokens
        return None if known else Response(401, {"code": 124, "message": "Invalid access token."})

    def issue_token(self, request: Request) -> Response:
        with self._lock:
            self.token_requests += 1
        if request.headers.get("authorization") != self._basic:
            return Response(401, {"reason": "Invalid client_id or client_secret", "error": "invalid_client"})
        params = {**request.json_object(), **request.query}  # Zoom takes them in the query or a form body
        if params.get("grant_type") != "account_credentials":
            return Response(400, {"reason": "unsupported grant type", "error": "unsupported_grant_type"})
        if params.get("account_id") != self._account_id:
            return Response(400, {"reason": "Invalid account_id", "error": "invalid_request"})
        token = "zoom_standin_" + secrets.token_urlsafe(24)
        with self._lock:
            self._tokens.add(token)
        return Response(200, {"access_token": token, "token_type": "bearer", "expires_in": TOKEN_SECONDS,
                              "scope": "meeting:write:admin meeting:read:admin", "api_url": "https://api.zoom.us"})

    def create_meeting(self, request: Request, user_id: str) -> Response:
        if user_id != "me":
            return Response(404, {"code": 1001, "message": f"User does not exist: {user_id}."})
        body = request.json_object()
        start, duration = body.get("start_time"), body.get("duration")
        try:
            datetime.strptime(str(start), "%Y-%m-%dT%H:%M:%SZ")
        except ValueError:
            return Response(400, {"code": 300, "message": f"Invalid field: start_time ({start!r})"})
        if not isinstance(duration, int) or duration <= 0:
            return Response(400, {"code": 300, "message": "Invalid field: duration"})
        with self._lock:
            meeting_id = next(self._ids)
            password = secrets.token_hex(4)
            meeting = {
                "uuid": base64.b64encode(secrets.token_bytes(16)).decode(), "id": meeting_id,
                "host_id": "standin-host", "host_email": "host@zoom.standin", "topic": body.get("topic", ""),
                "type": body.get("type", 2), "status": "waiting", "start_time": start, "duration": duration,
                "timezone": body.get("timezone", "UTC"), "agenda": body.get("agenda", ""),
                "created_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                "start_url": f"{self._public_url}/s/{meeting_id}?zak={secrets.token_urlsafe(16)}",
                "join_url": f"{self._public_url}/j/{meeting_id}?pwd={password}", "password": password,
                "settings": dict(body.get("settings") or {}), "pre_schedule": False,
            }
            self.meetings[str(meeting_id)] = meeting
            return Response(201, dict(meeting))

    def get_meeting(self, request: Request, meeting_id: str) -> Response:
        with self._lock:
            meeting = self.meetings.get(meeting_id)
        return Response(200, dict(meeting)) if meeting else self._no_meeting(meeting_id)

    def delete_meeting(self, request: Request, meeting_id: str) -> Response:
        with self._lock:
            removed = self.meetings.pop(meeting_id, None)
        return Response(204) if removed else self._no_meeting(meeting_id)

    @staticmethod
    def _no_meeting(meeting_id: str) -> Response:
        return Response(404, {"code": 3001, "message": f"Meeting does not exist: {meeting_id}."})
