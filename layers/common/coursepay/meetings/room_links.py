"""The provider that needs no account (``MEETING_PROVIDER=default``): a Jitsi Meet room whose name is derived
from the booking id, ``https://meet.jit.si/coursepay-<hash>``. Jitsi creates a room when its first participant
opens the link, so there is nothing to call: the same booking always gets the same room (idempotent by
construction) and a lost race has nothing to clean up.

The name is a hash, not the booking id: the id appears in API paths and logs, the room name only in the two
participants' e-mails. Booking ids are random (``bk_<hex>``), so the room name cannot be guessed either.
"""

from __future__ import annotations

import hashlib

from coursepay.meetings.interface import Meeting, MeetingSlot

ROOM_PROVIDER = "jitsi"
ROOM_PREFIX = "coursepay-"
_ROOM_HASH_CHARS = 24  # 96 bits


def room_name(booking_id: str) -> str:
    return ROOM_PREFIX + hashlib.sha256(f"coursepay-booking:{booking_id}".encode()).hexdigest()[:_ROOM_HASH_CHARS]


class RoomLinkProvider:
    name = ROOM_PROVIDER

    def __init__(self, base_url: str = "https://meet.jit.si") -> None:
        self._base = base_url.rstrip("/")

    def create_meeting(self, slot: MeetingSlot) -> Meeting:
        room = room_name(slot.booking_id)
        return Meeting(provider=self.name, meeting_id=room, join_url=f"{self._base}/{room}")

    def discard_meeting(self, meeting: Meeting) -> None:
        """Nothing to discard: a room exists only while someone is in it."""
