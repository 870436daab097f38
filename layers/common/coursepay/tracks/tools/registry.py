"""One provisioner per tool kind; each reads its secret when it acts (Powertools caches it for 5 minutes and then
reads it again, so a rotated token is picked up without a deploy)."""

from __future__ import annotations

from collections.abc import Callable

from coursepay.tracks.catalogue import ToolKind
from coursepay.tracks.tools.config import (
    DiscordToolConfig,
    GitHubToolConfig,
    HubToolConfig,
    PostgresToolConfig,
    ToolProvisioningSettings,
    load_tool_config,
)
from coursepay.tracks.tools.discord import DiscordProvisioner
from coursepay.tracks.tools.github import GitHubProvisioner
from coursepay.tracks.tools.hub import HubProvisioner
from coursepay.tracks.tools.interface import Provisioner
from coursepay.tracks.tools.links import LinkProvisioner
from coursepay.tracks.tools.postgres import PostgresProvisioner


def provisioners(settings: ToolProvisioningSettings) -> dict[ToolKind, Provisioner]:
    def config[C: (PostgresToolConfig, GitHubToolConfig, DiscordToolConfig, HubToolConfig)](
            kind: type[C], secret_id: str) -> Callable[[], C]:
        return lambda: load_tool_config(kind, secret_id)

    return {
        "link": LinkProvisioner(),
        "postgres": PostgresProvisioner(config(PostgresToolConfig, settings.postgres_tool_secret_id)),
        "github": GitHubProvisioner(config(GitHubToolConfig, settings.github_tool_secret_id)),
        "discord": DiscordProvisioner(config(DiscordToolConfig, settings.discord_tool_secret_id)),
        "hub": HubProvisioner(config(HubToolConfig, settings.hub_tool_secret_id)),
    }
