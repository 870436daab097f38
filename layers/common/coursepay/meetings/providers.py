"""Which meeting provider a container uses: ``MEETING_PROVIDER`` (``default``: a Jitsi room link, no account;
``zoom``: the Zoom adapter with the credentials of ``ZOOM_SECRET_ID``)."""

from __future__ import annotations

from coursepay.meetings.interface import MeetingProvider
from coursepay.meetings.room_links import RoomLinkProvider
from coursepay.meetings.settings import MeetingsSettings
from coursepay.meetings.zoom import ZoomConfig, ZoomMeetings, load_zoom_config


def meeting_provider(settings: MeetingsSettings) -> MeetingProvider:
    if settings.meeting_provider == "zoom":
        secret_id = settings.zoom_secret_id
        assert secret_id is not None  # MeetingsSettings refuses zoom without it

        def config() -> ZoomConfig:  # read at each call: Powertools caches it, a rotation is picked up
            return load_zoom_config(secret_id)

        return ZoomMeetings(config)
    return RoomLinkProvider(settings.meeting_room_base_url)
