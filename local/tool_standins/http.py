"""The small request/response/router layer the stand-ins share."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Request:
    method: str
    path: str
    headers: dict[str, str]  # lower-case names
    body: Any
    query: dict[str, str] = field(default_factory=dict)  # the query string (Zoom's token call uses it)

    def json_object(self) -> dict[str, Any]:
        return self.body if isinstance(self.body, dict) else {}


@dataclass
class Response:
    status: int
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)

    def encoded(self) -> bytes:
        return b"" if self.body is None else json.dumps(self.body).encode()


Handler = Callable[..., Response]


class Router:
    def __init__(self) -> None:
        self._routes: list[tuple[str, re.Pattern[str], Handler]] = []

    def add(self, method: str, pattern: str, handler: Handler) -> None:
        """``pattern``: a path with ``{name}`` segments, e.g. ``/repos/{owner}/{repo}``."""
        regex = "^" + re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", pattern) + "$"
        self._routes.append((method, re.compile(regex), handler))

    def dispatch(self, request: Request) -> Response | None:
        matched_path = False
        for method, regex, handler in self._routes:
            match = regex.match(request.path)
            if match is None:
                continue
            matched_path = True
            if method == request.method:
                return handler(request, **match.groupdict())
        return Response(405, {"message": "Method Not Allowed"}) if matched_path else None
