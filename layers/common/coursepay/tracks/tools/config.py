"""Where the adapters' connection details come from: one Secrets Manager secret per tool kind (JSON, typed
below), named by the provisioning function's environment. A missing or malformed secret is a ``ToolRejected``
whose message names the secret and the fields at fault, never a value."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError

from coursepay.secrets import get_json_secret
from coursepay.settings import ProvisioningSettings
from coursepay.tracks.tools.interface import ToolRejected


class ToolProvisioningSettings(ProvisioningSettings):
    """The provisioning function as the track tools need it."""

    accounts_table: str  # the student's GitHub username (profile)
    postgres_tool_secret_id: str
    github_tool_secret_id: str
    discord_tool_secret_id: str
    hub_tool_secret_id: str
    tool_credentials_key_id: str  # KMS key that encrypts each student's tool password


class _Secret(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class PostgresToolConfig(_Secret):
    """``{"host", "port", "database", "user", "password", "student_host"?, "student_port"?, "ssl"?}``: the
    provisioner's own login (CREATEROLE, CREATE on the database; not a superuser). ``student_host``/``port`` are
    what students connect to when that differs from the address the function uses."""

    host: str = Field(min_length=1)
    port: int = Field(default=5432, gt=0, lt=65536)
    database: str = Field(min_length=1)
    user: str = Field(min_length=1)
    password: SecretStr
    student_host: str | None = None
    student_port: int | None = Field(default=None, gt=0, lt=65536)
    ssl: bool = True


class GitHubToolConfig(_Secret):
    """``{"token", "api_base"?}``: a GitHub App installation or fine-grained token of the organisation with
    Administration (read/write) on its repositories."""

    token: SecretStr
    api_base: str = "https://api.github.com"


class DiscordToolConfig(_Secret):
    """``{"bot_token", "api_base"?, "invite_base"?, "invite_max_age_seconds"?}``: a bot with Create Invite on the
    tracks' channels."""

    bot_token: SecretStr
    api_base: str = "https://discord.com/api/v10"
    invite_base: str = "https://discord.gg"
    invite_max_age_seconds: int = Field(default=7 * 24 * 3600, ge=0, le=7 * 24 * 3600)


class HubConfig(_Secret):
    api_url: str = Field(min_length=1)  # the hub's base URL; the API is <api_url>/hub/api
    token: SecretStr  # an API token of a service/admin with the admin:users scope


class HubToolConfig(_Secret):
    """``{"hubs": {"<hub_id>": {"api_url", "token"}}}``: every JupyterHub-style hub a track names."""

    hubs: dict[str, HubConfig]


def load_tool_config[C: _Secret](config_type: type[C], secret_id: str) -> C:
    try:
        return config_type.model_validate(get_json_secret(secret_id))
    except ValidationError as error:
        fields = sorted({".".join(str(part) for part in problem["loc"]) for problem in error.errors()})
        raise ToolRejected(f"secret {secret_id} is not a valid {config_type.__name__}: {', '.join(fields)}") from None
    except Exception as error:  # not set, not JSON, not readable: an operator's job, retried until then
        raise ToolRejected(f"secret {secret_id} cannot be read ({type(error).__name__})") from None
