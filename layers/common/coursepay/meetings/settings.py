"""Settings of the meetings function (template parameter ``MeetingProvider``, the Zoom secret)."""

from __future__ import annotations

from typing import Literal

from pydantic import model_validator

from coursepay.settings import AuditSettings, ConsumerSettings


class MeetingsSettings(ConsumerSettings, AuditSettings):
    bookings_table: str
    event_bus_name: str
    meeting_provider: Literal["default", "zoom"] = "default"
    meeting_room_base_url: str = "https://meet.jit.si"  # the default provider's Jitsi Meet server
    zoom_secret_id: str | None = None

    @model_validator(mode="after")
    def _zoom_needs_its_secret(self) -> MeetingsSettings:
        if self.meeting_provider == "zoom" and not self.zoom_secret_id:
            raise ValueError("MEETING_PROVIDER=zoom needs ZOOM_SECRET_ID")
        return self
