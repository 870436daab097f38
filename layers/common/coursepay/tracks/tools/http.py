"""JSON over HTTPS for the tool adapters (stdlib only: no HTTP library in the layer for three small clients).

Every answer a retry may fix is raised here, the same way for every service: 5xx, a timeout or a refused
connection, 429, and GitHub's secondary-limit style 403 that carries ``x-ratelimit-remaining: 0`` or
``retry-after``. Everything else is returned for the adapter to judge (a 404 or 422 means something different
per endpoint). Request bodies and authorisation headers are never logged.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any

from coursepay.tracks.tools.interface import ToolRejected, ToolUnavailable

TIMEOUT_SECONDS = 10


@dataclass(frozen=True)
class JsonResponse:
    status: int
    headers: dict[str, str]  # lower-case names
    body: Any

    def field(self, name: str) -> Any:
        return self.body.get(name) if isinstance(self.body, dict) else None


def _retry_after(headers: dict[str, str], body: Any) -> float | None:
    for value in (headers.get("retry-after"), body.get("retry_after") if isinstance(body, dict) else None):
        try:
            return float(value) if value is not None else None
        except (TypeError, ValueError):
            continue
    return None


def rate_limited(response: JsonResponse) -> bool:
    if response.status == 429:
        return True
    return response.status == 403 and (response.headers.get("x-ratelimit-remaining") == "0"
                                       or "retry-after" in response.headers)


class JsonClient:
    def __init__(self, service: str, base_url: str, headers: dict[str, str]) -> None:
        self._service = service
        self._base = base_url.rstrip("/")
        self._headers = {"Accept": "application/json", "User-Agent": "coursepay-provisioning", **headers}

    def request(self, method: str, path: str, body: dict[str, Any] | None = None) -> JsonResponse:
        data = json.dumps(body).encode() if body is not None else None
        headers = dict(self._headers)
        if data is not None:
            headers["Content-Type"] = "application/json"
        request = urllib.request.Request(self._base + path, data=data, method=method,  # noqa: S310 (https URLs from config)
                                         headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as answer:  # noqa: S310
                response = self._read(answer.status, answer.headers, answer.read())
        except urllib.error.HTTPError as error:
            response = self._read(error.code, error.headers, error.read())
        except (urllib.error.URLError, TimeoutError, ConnectionError) as error:
            raise ToolUnavailable(f"{self._service} unreachable ({method} {path}): {error}") from error
        if rate_limited(response):
            wait = _retry_after(response.headers, response.body)
            raise ToolUnavailable(f"{self._service} rate limit ({method} {path} -> {response.status})",
                                  retry_after_seconds=wait)
        if response.status >= 500:
            raise ToolUnavailable(f"{self._service} failed ({method} {path} -> {response.status})")
        return response

    @staticmethod
    def _read(status: int, headers: Any, raw: bytes) -> JsonResponse:
        names = {key.lower(): value for key, value in headers.items()} if headers is not None else {}
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = raw.decode(errors="replace")
        return JsonResponse(status, names, body)

    def rejected(self, what: str, response: JsonResponse) -> ToolRejected:
        message = response.field("message") or response.body
        return ToolRejected(f"{self._service} refused {what} ({response.status}: {message})")
