"""Forced failures for tests: the next ``times`` requests to a service (optionally only paths containing
``path_contains``) get the error that service answers for ``status`` (429/403 rate limit, 5xx, 404), with its
real headers and body shape."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

from local.tool_standins.http import Response

SERVICES = ("github", "discord", "hub", "zoom")


@dataclass
class Fault:
    service: str
    status: int
    times: int
    path_contains: str | None
    retry_after: int


def github_error(status: int, retry_after: int) -> Response:
    docs = "https://docs.github.com/rest"
    if status == 403:  # the primary rate limit: 403 with remaining 0 and the reset time
        return Response(403, {"message": "API rate limit exceeded for installation.", "documentation_url": docs,
                              "status": "403"},
                        {"x-ratelimit-limit": "5000", "x-ratelimit-remaining": "0", "x-ratelimit-used": "5000",
                         "x-ratelimit-reset": str(int(time.time()) + retry_after), "x-ratelimit-resource": "core"})
    if status == 429:  # a secondary rate limit
        return Response(429, {"message": "You have exceeded a secondary rate limit.", "documentation_url": docs,
                              "status": "429"}, {"retry-after": str(retry_after)})
    if status == 404:
        return Response(404, {"message": "Not Found", "documentation_url": docs, "status": "404"})
    return Response(status, {"message": "Server Error"} if status >= 500 else {"message": f"forced {status}"})


def discord_error(status: int, retry_after: int) -> Response:
    if status == 429:
        return Response(429, {"message": "You are being rate limited.", "retry_after": float(retry_after),
                              "global": False},
                        {"retry-after": str(retry_after), "x-ratelimit-remaining": "0",
                         "x-ratelimit-reset-after": str(retry_after), "x-ratelimit-scope": "user"})
    if status == 404:
        return Response(404, {"message": "Unknown Channel", "code": 10003})
    return Response(status, {"message": f"{status}: Server Error", "code": 0})


def hub_error(status: int, retry_after: int) -> Response:
    headers = {"retry-after": str(retry_after)} if status == 429 else {}
    return Response(status, {"status": status, "message": "Not Found" if status == 404 else "HTTP error"}, headers)


def zoom_error(status: int, retry_after: int) -> Response:
    if status == 429:
        return Response(429, {"code": 429, "message": "You have reached the maximum per-second rate limit for this "
                                                      "API. Try again later."},
                        {"retry-after": str(retry_after), "x-ratelimit-category": "Light", "x-ratelimit-type": "QPS"})
    if status == 404:
        return Response(404, {"code": 3001, "message": "Meeting does not exist."})
    return Response(status, {"code": status, "message": "Internal Error" if status >= 500 else f"forced {status}"})


ERROR_SHAPES = {"github": github_error, "discord": discord_error, "hub": hub_error, "zoom": zoom_error}


class Faults:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pending: list[Fault] = []

    def add(self, fault: Fault) -> None:
        with self._lock:
            self._pending.append(fault)

    def clear(self) -> None:
        with self._lock:
            self._pending.clear()

    def take(self, service: str, path: str) -> Response | None:
        with self._lock:
            for fault in self._pending:
                if fault.service == service and (fault.path_contains is None or fault.path_contains in path):
                    fault.times -= 1
                    if fault.times <= 0:
                        self._pending.remove(fault)
                    return ERROR_SHAPES[service](fault.status, fault.retry_after)
        return None
