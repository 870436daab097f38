"""The meeting providers: the no-account room link, and the Zoom adapter over HTTP against the Zoom stand-in
(``local.tool_standins``, in-process): OAuth token cached per container, meetings created and discarded, retries
with backoff on 429/5xx the stand-in is told to return, and what a refusal looks like."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from coursepay.meetings.http import Backoff, RetryingJsonClient
from coursepay.meetings.interface import MeetingProviderRejected, MeetingProviderUnavailable, MeetingSlot
from coursepay.meetings.room_links import RoomLinkProvider
from coursepay.meetings.zoom import ZoomConfig, ZoomMeetings, ZoomTokens, load_zoom_config
from local.tool_standins.faults import Fault
from local.tool_standins.server import ZOOM_ACCOUNT_ID, ZOOM_CLIENT_ID, ZOOM_CLIENT_SECRET, ToolStandins

SLOT = MeetingSlot(booking_id="bk_0123456789abcdef", gig_title="Conversational German",
                   start="2026-12-15T14:00:00.000Z", duration_minutes=90, time_zone="Europe/Berlin")


@pytest.fixture(scope="module")
def standins() -> Iterator[ToolStandins]:
    server = ToolStandins().start()
    yield server
    server.stop()


@pytest.fixture
def zoom_config(standins: ToolStandins) -> ZoomConfig:
    standins.faults.clear()
    return ZoomConfig(account_id=ZOOM_ACCOUNT_ID, client_id=ZOOM_CLIENT_ID, client_secret=ZOOM_CLIENT_SECRET,
                      oauth_base=standins.zoom_url, api_base=standins.zoom_url + "/v2")


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class Zoom:
    """A ZoomMeetings as a fresh container has it (its own token cache), with recorded backoff sleeps."""

    def __init__(self, config: ZoomConfig) -> None:
        self.sleeps: list[float] = []
        self.clock = Clock()
        self.tokens = ZoomTokens(self.clock)
        self.http = RetryingJsonClient("Zoom", Backoff(attempts=3, base_delay=0.5), sleep=self.sleeps.append)
        self.config = config
        self.provider = ZoomMeetings(lambda: self.config, http=self.http, tokens=self.tokens)


def token_requests(standins: ToolStandins) -> int:
    return int(standins.zoom.state()["token_requests"])


def stored_meeting(standins: ToolStandins, meeting_id: str) -> dict[str, Any] | None:
    answer = requests.get(f"{standins.zoom_url}/v2/meetings/{meeting_id}", timeout=5,
                          headers={"Authorization": "Bearer " + fresh_token(standins)})
    return answer.json() if answer.status_code == 200 else None


def fresh_token(standins: ToolStandins) -> str:
    answer = requests.post(f"{standins.zoom_url}/oauth/token", auth=(ZOOM_CLIENT_ID, ZOOM_CLIENT_SECRET), timeout=5,
                           params={"grant_type": "account_credentials", "account_id": ZOOM_ACCOUNT_ID})
    return str(answer.json()["access_token"])


# ------------------------------------------------------------------------------------------ default provider
def test_the_default_provider_gives_each_booking_its_own_stable_room() -> None:
    provider = RoomLinkProvider()
    first, again = provider.create_meeting(SLOT), provider.create_meeting(SLOT)
    other = provider.create_meeting(SLOT.model_copy(update={"booking_id": "bk_fedcba9876543210"}))
    assert first == again
    assert re.fullmatch(r"https://meet\.jit\.si/coursepay-[0-9a-f]{24}", first.join_url)
    assert SLOT.booking_id not in first.join_url
    assert other.join_url != first.join_url
    assert (first.provider, first.meeting_id, first.host_url) == ("jitsi", first.join_url.rsplit("/", 1)[1], None)
    assert RoomLinkProvider("https://jitsi.example.org/").create_meeting(SLOT).join_url.startswith(
        "https://jitsi.example.org/coursepay-")


# ------------------------------------------------------------------------------------------ Zoom
def test_zoom_creates_a_scheduled_meeting_with_one_token_for_two_meetings(standins, zoom_config) -> None:
    zoom = Zoom(zoom_config)
    before = token_requests(standins)
    first = zoom.provider.create_meeting(SLOT)
    second = zoom.provider.create_meeting(SLOT.model_copy(update={"booking_id": "bk_second"}))
    assert token_requests(standins) - before == 1
    assert first.meeting_id != second.meeting_id
    stored = stored_meeting(standins, first.meeting_id)
    assert stored is not None
    assert (first.provider, first.join_url, first.host_url) == ("zoom", stored["join_url"], stored["start_url"])
    assert stored["start_time"] == "2026-12-15T14:00:00Z"  # Zoom's UTC form, without the milliseconds
    assert (stored["duration"], stored["timezone"], stored["type"]) == (90, "Europe/Berlin", 2)
    assert (stored["topic"], stored["agenda"]) == ("Conversational German", "coursepay booking bk_0123456789abcdef")
    assert stored["settings"]["join_before_host"] is True  # the session works without the host's (expiring) link
    assert zoom.sleeps == []


def test_zoom_fetches_a_new_token_shortly_before_the_cached_one_expires(standins, zoom_config) -> None:
    zoom = Zoom(zoom_config)
    before = token_requests(standins)
    zoom.provider.create_meeting(SLOT)
    zoom.clock.now += 3600 - 120  # still valid for two minutes: kept
    zoom.provider.create_meeting(SLOT)
    assert token_requests(standins) - before == 1
    zoom.clock.now += 90  # inside the last minute: refreshed
    zoom.provider.create_meeting(SLOT)
    assert token_requests(standins) - before == 2


def test_zoom_replaces_a_revoked_token_once(standins, zoom_config) -> None:
    zoom = Zoom(zoom_config)
    zoom.provider.create_meeting(SLOT)
    before = token_requests(standins)
    assert requests.post(f"{standins.url}/_standins/zoom/revoke-tokens", timeout=5).status_code == 204
    meeting = zoom.provider.create_meeting(SLOT)
    assert token_requests(standins) - before == 1
    assert stored_meeting(standins, meeting.meeting_id) is not None


@pytest.mark.parametrize(("status", "retry_after", "waited"), [(503, 1, [0.5]), (500, 1, [0.5]), (429, 2, [2.0])])
def test_zoom_retries_a_server_error_or_rate_limit_with_backoff(standins, zoom_config, status, retry_after,
                                                                 waited) -> None:
    zoom = Zoom(zoom_config)
    zoom.provider.create_meeting(SLOT)  # the token first: the fault hits the meeting call
    meetings_before = len(standins.zoom.state()["meetings"])
    standins.faults.add(Fault(service="zoom", status=status, times=1, path_contains="/meetings",
                              retry_after=retry_after))
    meeting = zoom.provider.create_meeting(SLOT)
    assert zoom.sleeps == waited  # 5xx: our backoff; 429: Zoom's Retry-After
    assert len(standins.zoom.state()["meetings"]) == meetings_before + 1
    assert stored_meeting(standins, meeting.meeting_id) is not None


def test_zoom_gives_up_after_the_last_attempt_for_sqs_to_retry(standins, zoom_config) -> None:
    zoom = Zoom(zoom_config)
    meetings_before = len(standins.zoom.state()["meetings"])
    standins.faults.add(Fault(service="zoom", status=502, times=5, path_contains="/meetings", retry_after=1))
    with pytest.raises(MeetingProviderUnavailable, match="failed 3 times"):
        zoom.provider.create_meeting(SLOT)
    assert zoom.sleeps == [0.5, 1.0]  # doubling
    assert len(standins.zoom.state()["meetings"]) == meetings_before


def test_a_rate_limited_token_call_is_retried_too(standins, zoom_config) -> None:
    zoom = Zoom(zoom_config)
    standins.faults.add(Fault(service="zoom", status=429, times=1, path_contains="/oauth/token", retry_after=1))
    zoom.provider.create_meeting(SLOT)
    assert zoom.sleeps == [1.0]


def test_wrong_credentials_are_a_rejection_naming_no_secret(standins, zoom_config) -> None:
    zoom = Zoom(ZoomConfig(**{**zoom_config.model_dump(), "client_secret": "not-the-secret"}))
    with pytest.raises(MeetingProviderRejected, match="Invalid client_id or client_secret") as refused:
        zoom.provider.create_meeting(SLOT)
    assert "not-the-secret" not in str(refused.value)
    assert zoom.sleeps == []  # a 401 is not retried


def test_an_unknown_host_user_is_a_rejection(standins, zoom_config) -> None:
    zoom = Zoom(zoom_config.model_copy(update={"host_user": "nobody@example.com"}))
    with pytest.raises(MeetingProviderRejected, match="404"):
        zoom.provider.create_meeting(SLOT)


def test_zoom_discards_a_meeting_and_a_second_discard_is_fine(standins, zoom_config) -> None:
    zoom = Zoom(zoom_config)
    meeting = zoom.provider.create_meeting(SLOT)
    zoom.provider.discard_meeting(meeting)
    assert stored_meeting(standins, meeting.meeting_id) is None
    zoom.provider.discard_meeting(meeting)  # already gone: 404, accepted


def test_the_zoom_secret_is_validated_without_echoing_values(aws) -> None:
    secrets = aws.client("secretsmanager")
    secrets.create_secret(Name="zoom-test", SecretString=json.dumps({"account_id": "a", "client_secret": "s3cr3t"}))
    with pytest.raises(MeetingProviderRejected, match="client_id") as refused:
        load_zoom_config("zoom-test")
    assert "s3cr3t" not in str(refused.value)
    secrets.put_secret_value(SecretId="zoom-test", SecretString=json.dumps(
        {"account_id": "a", "client_id": "c", "client_secret": "s", "api_base": "http://127.0.0.1:1/v2"}))
    from aws_lambda_powertools.utilities import parameters

    parameters.clear_caches()
    config = load_zoom_config("zoom-test")
    assert (config.oauth_base, config.api_base, config.host_user) == ("https://zoom.us", "http://127.0.0.1:1/v2", "me")
