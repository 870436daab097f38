"""JSON over HTTPS for the meeting providers, with the retries a provider's API asks for: a 429 or a 5xx (or a
refused connection, a timeout) is tried again after a backoff (the answer's ``Retry-After`` when it gives one,
else doubling from ``base_delay``), up to ``attempts`` tries in all; then ``MeetingProviderUnavailable``, which
fails the SQS message (SQS retries it later, and after ``maxReceiveCount`` receives the DLQ holds it).

Every other answer is returned for the adapter to judge. Request bodies and authorisation headers are never
logged. stdlib only: the layer has no HTTP library for one small client.
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from coursepay.meetings.interface import MeetingProviderUnavailable
from coursepay.observability import logger

TIMEOUT_SECONDS = 10
RETRIED_STATUSES = frozenset({429, 500, 502, 503, 504})


@dataclass(frozen=True)
class Backoff:
    attempts: int = 3
    base_delay: float = 0.5
    max_delay: float = 8.0  # a longer Retry-After is left to SQS's redelivery

    def delay(self, attempt: int, retry_after: float | None) -> float:
        """Seconds to wait after failed try number ``attempt`` (1-based)."""
        wanted = retry_after if retry_after is not None else self.base_delay * 2 ** (attempt - 1)
        return min(max(wanted, 0.0), self.max_delay)


@dataclass(frozen=True)
class JsonAnswer:
    status: int
    headers: dict[str, str]  # lower-case names
    body: Any

    def field(self, name: str) -> Any:
        return self.body.get(name) if isinstance(self.body, dict) else None


def _retry_after(headers: Mapping[str, str]) -> float | None:
    try:
        return float(headers["retry-after"]) if "retry-after" in headers else None
    except ValueError:  # an HTTP date: fall back to our own backoff
        return None


class RetryingJsonClient:
    def __init__(self, service: str, backoff: Backoff | None = None, *,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self._service = service
        self._backoff = backoff or Backoff()
        self._sleep = sleep

    def request(self, method: str, url: str, *, headers: Mapping[str, str],
                body: dict[str, Any] | None = None, query: Mapping[str, str] | None = None) -> JsonAnswer:
        full_url = url + ("?" + urllib.parse.urlencode(dict(query)) if query else "")
        for attempt in range(1, self._backoff.attempts + 1):
            failure, retry_after = self._try(method, full_url, headers, body)
            if isinstance(failure, JsonAnswer):
                return failure
            logger.warning("meeting provider call failed", service=self._service, method=method,
                           path=urllib.parse.urlsplit(url).path, attempt=attempt, reason=failure)
            if attempt == self._backoff.attempts:
                raise MeetingProviderUnavailable(f"{self._service} {method} failed {attempt} times: {failure}",
                                                 retry_after_seconds=retry_after)
            self._sleep(self._backoff.delay(attempt, retry_after))
        raise AssertionError("unreachable: the loop returns or raises")

    def _try(self, method: str, url: str, headers: Mapping[str, str],
             body: dict[str, Any] | None) -> tuple[JsonAnswer | str, float | None]:
        """The answer, or why it is worth another try (and the Retry-After it asked for)."""
        data = json.dumps(body).encode() if body is not None else None
        sent = {"Accept": "application/json", "User-Agent": "coursepay-meetings", **headers}
        if data is not None:
            sent["Content-Type"] = "application/json"
        request = urllib.request.Request(url, data=data, method=method, headers=sent)  # noqa: S310 (URLs from config)
        try:
            with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response:  # noqa: S310
                answer = self._read(response.status, response.headers, response.read())
        except urllib.error.HTTPError as error:
            answer = self._read(error.code, error.headers, error.read())
        except (urllib.error.URLError, TimeoutError, ConnectionError) as error:
            return f"unreachable ({type(error).__name__})", None
        if answer.status in RETRIED_STATUSES:
            return f"HTTP {answer.status}", _retry_after(answer.headers)
        return answer, None

    @staticmethod
    def _read(status: int, headers: Any, raw: bytes) -> JsonAnswer:
        names = {key.lower(): value for key, value in headers.items()} if headers is not None else {}
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = raw.decode(errors="replace")
        return JsonAnswer(status, names, body)
