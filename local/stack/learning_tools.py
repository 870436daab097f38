"""What the learning-tool adapters talk to on this machine: the HTTP stand-ins (``local.tool_standins``) and a
throwaway PostgreSQL cluster, started and stopped together, and the tool secrets' values that point the
provisioning function at them (the same JSON an operator puts in Secrets Manager). The same stand-in server plays
Zoom for the meetings function (``ZoomMeetingsSecret``)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from local.stack.postgres_cluster import PostgresCluster
from local.tool_standins.server import (
    DISCORD_BOT_TOKEN,
    GITHUB_TOKEN,
    HUB_TOKENS,
    ZOOM_ACCOUNT_ID,
    ZOOM_CLIENT_ID,
    ZOOM_CLIENT_SECRET,
    ToolStandins,
)

# What tracks.json names: the FSD template repository and the tracks' Discord channels.
GITHUB_TEMPLATES = ("coursepay-fsd/fsd-project-template",)
DISCORD_CHANNELS = ("1300000000000000001", "1300000000000000002")


class LearningTools:
    def __init__(self, state_dir: Path, *, host: str = "127.0.0.1", log: Callable[[str], None] = print) -> None:
        self.standins = ToolStandins(host, 0, github_templates=GITHUB_TEMPLATES, discord_channels=DISCORD_CHANNELS)
        self.postgres = PostgresCluster(state_dir, host=host, log=log)
        self._started = False

    def start(self) -> LearningTools:
        self.standins.start()
        self._started = True
        self.postgres.start()
        return self

    def secret_values(self) -> dict[str, str]:
        """Template logical id of each tool secret -> its value."""
        login = self.postgres.provisioner
        return {
            "PostgresToolSecret": json.dumps({"host": login.host, "port": login.port, "database": login.database,
                                              "user": login.user, "password": login.password, "ssl": False}),
            "GitHubToolSecret": json.dumps({"token": GITHUB_TOKEN, "api_base": self.standins.github_api}),
            "DiscordToolSecret": json.dumps({"bot_token": DISCORD_BOT_TOKEN, "api_base": self.standins.discord_api,
                                             "invite_base": self.standins.url + "/discord/invite"}),
            "HubToolSecret": json.dumps({"hubs": {hub: {"api_url": self.standins.hub_url(hub), "token": token}
                                                  for hub, token in HUB_TOKENS.items()}}),
            "ZoomMeetingsSecret": json.dumps({"account_id": ZOOM_ACCOUNT_ID, "client_id": ZOOM_CLIENT_ID,
                                              "client_secret": ZOOM_CLIENT_SECRET, "oauth_base": self.standins.zoom_url,
                                              "api_base": self.standins.zoom_url + "/v2"}),
        }

    def stop(self) -> None:
        self.postgres.stop()
        if self._started:
            self.standins.stop()
            self._started = False
