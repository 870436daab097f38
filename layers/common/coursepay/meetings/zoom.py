"""Zoom (``MEETING_PROVIDER=zoom``): a scheduled meeting per booking through a Server-to-Server OAuth app.

- Token: ``POST <oauth_base>/oauth/token?grant_type=account_credentials&account_id=<id>`` with HTTP Basic
  ``client_id:client_secret``; the access token (an hour) is kept in the container until shortly before it
  expires, so a warm container makes one token call per hour, not one per meeting. A 401 from the API (the
  token was revoked, the app deactivated) drops it and fetches one new token once.
- Meeting: ``POST <api_base>/users/<host_user>/meetings`` (type 2, scheduled: the booking's start in UTC, its
  duration, the gig's time zone for Zoom's own display); ``join_url`` for both, ``start_url`` (``host_url``) for
  the teacher. The meetings are the app account's (``host_user``), not the teacher's, and Zoom lets a start URL
  expire (two hours for regular users), so participants may join 5 minutes before the start without the host
  (``join_before_host``): the session happens even if the teacher's host link has expired.
  ``DELETE <api_base>/meetings/{id}`` discards one that lost the race to the booking.
- Retries with backoff on 429 and 5xx (``coursepay.meetings.http``).

Credentials come from the Secrets Manager secret ``ZOOM_SECRET_ID`` names (``ZoomConfig``), never from code;
``oauth_base``/``api_base`` point the adapter at the local stand-in (``local.tool_standins.zoom``).
"""

from __future__ import annotations

import base64
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError

from coursepay.meetings.http import JsonAnswer, RetryingJsonClient
from coursepay.meetings.interface import Meeting, MeetingProviderRejected, MeetingSlot
from coursepay.secrets import get_json_secret

ZOOM_PROVIDER = "zoom"
SCHEDULED_MEETING = 2
TOKEN_EARLY_REFRESH_SECONDS = 60


class ZoomConfig(BaseModel):
    """``{"account_id", "client_id", "client_secret", "oauth_base"?, "api_base"?, "host_user"?}``: the app's
    credentials (scope ``meeting:write:admin`` or ``meeting:write:meeting:admin``) and whose meetings they are."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    account_id: str = Field(min_length=1)
    client_id: str = Field(min_length=1)
    client_secret: SecretStr
    oauth_base: str = "https://zoom.us"
    api_base: str = "https://api.zoom.us/v2"
    host_user: str = "me"  # the app owner; or the id/e-mail of a licensed user of the account


def load_zoom_config(secret_id: str) -> ZoomConfig:
    try:
        return ZoomConfig.model_validate(get_json_secret(secret_id))
    except ValidationError as error:
        fields = sorted({".".join(str(part) for part in problem["loc"]) for problem in error.errors()})
        raise MeetingProviderRejected(f"secret {secret_id} is not a valid ZoomConfig: {', '.join(fields)}") from None
    except Exception as error:  # not set, not JSON, unreadable: an operator's job; retried until then
        raise MeetingProviderRejected(f"secret {secret_id} cannot be read ({type(error).__name__})") from None


@dataclass(frozen=True)
class _Token:
    value: str
    refresh_at: float  # time.monotonic()


class ZoomTokens:
    """Access tokens per (OAuth base, account, client), kept for the container's life (one instance per
    process: ``TOKENS``)."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._tokens: dict[tuple[str, str, str], _Token] = {}

    def get(self, config: ZoomConfig, http: RetryingJsonClient) -> str:
        key = (config.oauth_base, config.account_id, config.client_id)
        with self._lock:
            cached = self._tokens.get(key)
            if cached is not None and self._clock() < cached.refresh_at:
                return cached.value
            token = self._fetch(config, http)
            self._tokens[key] = token
            return token.value

    def forget(self, config: ZoomConfig) -> None:
        with self._lock:
            self._tokens.pop((config.oauth_base, config.account_id, config.client_id), None)

    def _fetch(self, config: ZoomConfig, http: RetryingJsonClient) -> _Token:
        credentials = f"{config.client_id}:{config.client_secret.get_secret_value()}".encode()
        answer = http.request("POST", config.oauth_base.rstrip("/") + "/oauth/token",
                              headers={"Authorization": "Basic " + base64.b64encode(credentials).decode()},
                              query={"grant_type": "account_credentials", "account_id": config.account_id})
        token, expires_in = answer.field("access_token"), answer.field("expires_in")
        if answer.status != 200 or not isinstance(token, str) or not isinstance(expires_in, int):
            reason = answer.field("reason") or answer.field("error") or answer.status
            raise MeetingProviderRejected(f"Zoom refused the account credentials ({reason})")
        return _Token(token, self._clock() + max(expires_in - TOKEN_EARLY_REFRESH_SECONDS, 0))


TOKENS = ZoomTokens()


def zoom_start_time(start: str) -> str:
    """Zoom's UTC form ``yyyy-MM-ddTHH:mm:ssZ`` (it rejects fractions of a second)."""
    return datetime.fromisoformat(start).strftime("%Y-%m-%dT%H:%M:%SZ")


class ZoomMeetings:
    name = ZOOM_PROVIDER

    def __init__(self, config: Callable[[], ZoomConfig], *, http: RetryingJsonClient | None = None,
                 tokens: ZoomTokens = TOKENS) -> None:
        self._config = config
        self._http = http or RetryingJsonClient("Zoom")
        self._tokens = tokens

    def create_meeting(self, slot: MeetingSlot) -> Meeting:
        config = self._config()
        body = {"topic": slot.gig_title[:200], "type": SCHEDULED_MEETING, "start_time": zoom_start_time(slot.start),
                "duration": slot.duration_minutes, "timezone": slot.time_zone,
                "agenda": f"coursepay booking {slot.booking_id}",
                "settings": {"join_before_host": True, "jbh_time": 5, "waiting_room": False}}
        answer = self._call(config, "POST", f"/users/{config.host_user}/meetings", body)
        meeting_id, join_url = answer.field("id"), answer.field("join_url")
        if answer.status != 201 or meeting_id is None or not isinstance(join_url, str):
            raise MeetingProviderRejected(
                f"Zoom refused the meeting of {slot.booking_id} ({answer.status}: {answer.field('message')})")
        start_url = answer.field("start_url")
        return Meeting(provider=self.name, meeting_id=str(meeting_id), join_url=join_url,
                       host_url=start_url if isinstance(start_url, str) else None)

    def discard_meeting(self, meeting: Meeting) -> None:
        config = self._config()
        answer = self._call(config, "DELETE", f"/meetings/{meeting.meeting_id}")
        if answer.status not in (204, 404):  # 404: already gone
            raise MeetingProviderRejected(f"Zoom did not delete meeting {meeting.meeting_id} ({answer.status})")

    def _call(self, config: ZoomConfig, method: str, path: str, body: dict[str, Any] | None = None) -> JsonAnswer:
        url = config.api_base.rstrip("/") + path
        answer = self._http.request(method, url, headers=self._bearer(config), body=body)
        if answer.status == 401:  # a revoked token: one new one, one more try
            self._tokens.forget(config)
            answer = self._http.request(method, url, headers=self._bearer(config), body=body)
        return answer

    def _bearer(self, config: ZoomConfig) -> dict[str, str]:
        return {"Authorization": f"Bearer {self._tokens.get(config, self._http)}"}
