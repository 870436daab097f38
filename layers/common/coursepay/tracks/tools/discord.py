"""Discord: a single-use invite to the track's channel (``POST /channels/{channel_id}/invites`` with
``max_uses=1``, ``unique=true``, ``Authorization: Bot <token>``), shown to the student as ``<invite_base>/<code>``.

Discord cannot tie an invite to a person, so the adapter makes one per call; the provisioning service calls it
only for a student who has none recorded (a retry after a crash between Discord's answer and our write leaves
one unused invite behind, which expires after ``invite_max_age_seconds``). Revocation deletes the invite
(``DELETE /invites/{code}``; 404 = already used or expired). A student who already joined stays in the server:
removing a member needs their Discord user id, which coursepay does not collect.
"""

from __future__ import annotations

from collections.abc import Callable

from coursepay.tracks.catalogue import Tool
from coursepay.tracks.tools.config import DiscordToolConfig
from coursepay.tracks.tools.http import JsonClient
from coursepay.tracks.tools.interface import ProvisionedTool, Student


class DiscordProvisioner:
    def __init__(self, config: Callable[[], DiscordToolConfig]) -> None:
        self._config = config

    def _client(self) -> JsonClient:
        config = self._config()
        return JsonClient("Discord", config.api_base, {"Authorization": f"Bot {config.bot_token.get_secret_value()}"})

    def provision(self, student: Student, tool: Tool) -> ProvisionedTool:
        config = self._config()
        discord = self._client()
        created = discord.request("POST", f"/channels/{tool.channel_id}/invites", {
            "max_age": config.invite_max_age_seconds, "max_uses": 1, "unique": True, "temporary": False})
        if created.status not in (200, 201) or not created.field("code"):
            raise discord.rejected(f"an invite to channel {tool.channel_id}", created)
        code = str(created.field("code"))
        return ProvisionedTool(tool_id=tool.tool_id, name=tool.name, kind="discord",
                               url=f"{config.invite_base.rstrip('/')}/{code}",
                               details={"invite_code": code, "expires_at": str(created.field("expires_at") or "")})

    def revoke(self, student: Student, tool: Tool, provisioned: ProvisionedTool) -> None:
        code = provisioned.details.get("invite_code")
        if not code:
            return
        discord = self._client()
        deleted = discord.request("DELETE", f"/invites/{code}")
        if deleted.status not in (200, 204, 404):
            raise discord.rejected(f"deleting invite {code}", deleted)
