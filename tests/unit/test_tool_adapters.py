"""The HTTP tool adapters on their own: against the stand-ins over HTTP (auth, idempotency, revocation), and
against error answers recorded from the real services (rate limits, 5xx, 404), replayed without a network."""

from __future__ import annotations

import email.message
import io
import json
import urllib.error
import uuid

import pytest
import requests
from pydantic import SecretStr

from coursepay.tracks.catalogue import Tool
from coursepay.tracks.tools.config import DiscordToolConfig, GitHubToolConfig, HubConfig, HubToolConfig
from coursepay.tracks.tools.discord import DiscordProvisioner
from coursepay.tracks.tools.github import GitHubProvisioner
from coursepay.tracks.tools.hub import HubProvisioner
from coursepay.tracks.tools.interface import ProvisionedTool, Student, ToolRejected, ToolUnavailable
from local.tool_standins.server import DISCORD_BOT_TOKEN, GITHUB_TOKEN, HUB_TOKENS, ToolStandins

TEMPLATE = "coursepay-fsd/fsd-project-template"
GITHUB_TOOL = Tool(tool_id="github", name="GitHub", kind="github", template_repository=TEMPLATE)
DISCORD_TOOL = Tool(tool_id="discord", name="Discord", kind="discord", channel_id="1300000000000000001")
HUB_TOOL = Tool(tool_id="jupyter", name="Jupyter", kind="hub", hub_id="jupyter",
                url_template="https://jupyter.example/user/{username}/lab")


@pytest.fixture(scope="module")
def standins():
    server = ToolStandins(github_templates=[TEMPLATE], discord_channels=["1300000000000000001"]).start()
    yield server
    server.stop()


def student(github_username=None):
    return Student(user_id=str(uuid.uuid4()), track_id="FSD", workspace=f"fsd-{uuid.uuid4().hex[:12]}",
                   github_username=github_username)


def github(standins, token=GITHUB_TOKEN):
    return GitHubProvisioner(lambda: GitHubToolConfig(token=SecretStr(token), api_base=standins.github_api))


def discord(standins):
    return DiscordProvisioner(lambda: DiscordToolConfig(bot_token=SecretStr(DISCORD_BOT_TOKEN),
                                                        api_base=standins.discord_api))


def hub(standins, token=HUB_TOKENS["jupyter"]):
    return HubProvisioner(lambda: HubToolConfig(hubs={"jupyter": HubConfig(api_url=standins.hub_url("jupyter"),
                                                                            token=SecretStr(token))}))


def test_github_repository_invitation_idempotency_and_revocation(standins):
    login = f"octo-{uuid.uuid4().hex[:6]}"
    standins.github.add_user(login)
    someone = student(login)
    first = github(standins).provision(someone, GITHUB_TOOL)
    second = github(standins).provision(someone, GITHUB_TOOL)  # 422 "already exists", recognised as ours
    assert first.url == second.url
    assert (first.details["invitation"], second.details["invitation"]) == ("sent", "sent")
    full_name = first.details["repository"]
    repos = [r for r in standins.github.state()["repositories"] if r["full_name"] == full_name]
    assert len(repos) == 1
    assert [i["invitee"]["login"] for i in standins.github.state()["invitations"][full_name]] == [login]

    github(standins).revoke(someone, GITHUB_TOOL, first)
    github(standins).revoke(someone, GITHUB_TOOL, first)  # archived already: counts as revoked
    state = standins.github.state()
    assert state["invitations"][full_name] == []
    assert next(r for r in state["repositories"] if r["full_name"] == full_name)["archived"] is True
    # a re-enrolment un-archives it and invites again
    again = github(standins).provision(someone, GITHUB_TOOL)
    assert again.details["invitation"] == "sent"
    assert next(r for r in standins.github.state()["repositories"] if r["full_name"] == full_name)["archived"] is False


def test_github_refuses_a_foreign_repository_of_the_same_name_and_a_bad_token(standins):
    someone = student()
    standins.github.add_template(f"coursepay-fsd/{someone.workspace}")  # same name, not generated from ours
    with pytest.raises(ToolRejected, match="not generated from"):
        github(standins).provision(someone, GITHUB_TOOL)
    with pytest.raises(ToolRejected, match="401"):
        github(standins, token="ghs_wrong").provision(student(), GITHUB_TOOL)


def test_github_unknown_user_waits_for_a_username(standins):
    outcome = github(standins).provision(student("nobody-here"), GITHUB_TOOL)
    assert (outcome.details["invitation"], outcome.waiting_for) == ("unknown_user", "github_username")


def test_discord_single_use_invites_and_revocation(standins):
    someone = student()
    invite = discord(standins).provision(someone, DISCORD_TOOL)
    code = invite.details["invite_code"]
    [stored] = [i for i in standins.discord.state()["invites"] if i["code"] == code]
    assert (stored["max_uses"], stored["unique"], stored["max_age"]) == (1, True, 7 * 24 * 3600)
    discord(standins).revoke(someone, DISCORD_TOOL, invite)
    discord(standins).revoke(someone, DISCORD_TOOL, invite)  # 404 Unknown Invite: already gone
    assert code not in {i["code"] for i in standins.discord.state()["invites"]}
    with pytest.raises(ToolRejected, match="Unknown Channel"):
        discord(standins).provision(someone, DISCORD_TOOL.model_copy(update={"channel_id": "999999999"}))


def test_hub_users_are_created_once_and_deleted(standins):
    someone = student()
    made = hub(standins).provision(someone, HUB_TOOL)
    again = hub(standins).provision(someone, HUB_TOOL)  # 409: exists, ours
    assert (again.url, again.username) == (made.url, made.username)
    assert standins.hubs.state()["jupyter"].count(someone.workspace) == 1
    assert made.url == f"https://jupyter.example/user/{someone.workspace}/lab"
    hub(standins).revoke(someone, HUB_TOOL, made)
    hub(standins).revoke(someone, HUB_TOOL, made)
    assert someone.workspace not in standins.hubs.state()["jupyter"]
    with pytest.raises(ToolRejected, match="403"):
        hub(standins, token="wrong").provision(someone, HUB_TOOL)


def test_forced_faults_of_the_standins_reach_the_adapters_as_retryable(standins):
    control = f"{standins.url}/_standins/faults"
    requests.post(control, json={"service": "github", "status": 403, "retry_after": 30}, timeout=5)
    with pytest.raises(ToolUnavailable, match="rate limit") as limited:
        github(standins).provision(student(), GITHUB_TOOL)
    assert limited.value.retry_after_seconds is None  # the primary limit says when it resets, not how long to wait
    requests.post(control, json={"service": "discord", "status": 429, "retry_after": 2}, timeout=5)
    with pytest.raises(ToolUnavailable) as discord_limited:
        discord(standins).provision(student(), DISCORD_TOOL)
    assert discord_limited.value.retry_after_seconds == 2
    requests.post(control, json={"service": "hub", "status": 503}, timeout=5)
    with pytest.raises(ToolUnavailable, match="503"):
        hub(standins).provision(student(), HUB_TOOL)


# Error answers as the real services send them (status, headers, body).
RECORDED = {
    "github primary rate limit": (403, {"x-ratelimit-limit": "5000", "x-ratelimit-remaining": "0",
                                        "x-ratelimit-reset": "1767225600", "x-ratelimit-resource": "core"},
                                  {"message": "API rate limit exceeded for installation ID 4242.",
                                   "documentation_url": "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api",
                                   "status": "403"}),
    "github secondary rate limit": (429, {"retry-after": "60"},
                                    {"message": "You have exceeded a secondary rate limit. Please wait a few minutes "
                                                "before you try again.", "status": "429"}),
    "github 502": (502, {"content-type": "application/json"}, {"message": "Server Error"}),
    "github 404": (404, {}, {"message": "Not Found", "documentation_url": "https://docs.github.com/rest",
                             "status": "404"}),
    "github 403 permission": (403, {"x-ratelimit-remaining": "4990"},
                              {"message": "Resource not accessible by integration", "status": "403"}),
    "discord 429": (429, {"retry-after": "2", "x-ratelimit-remaining": "0", "x-ratelimit-scope": "user"},
                    {"message": "You are being rate limited.", "retry_after": 1.5, "global": False}),
    "discord 404": (404, {}, {"message": "Unknown Channel", "code": 10003}),
    "discord 500": (500, {}, {"message": "500: Internal Server Error", "code": 0}),
    "hub 503": (503, {}, {"status": 503, "message": "Service Unavailable"}),
    "hub 404": (404, {}, {"status": 404, "message": "Not Found"}),
}


@pytest.fixture
def replay(monkeypatch):
    """``replay(name)``: every request gets the recorded answer ``name``."""

    def use(name):
        status, headers, body = RECORDED[name]

        def urlopen(request, timeout):
            message = email.message.Message()
            for key, value in headers.items():
                message[key] = value
            raise urllib.error.HTTPError(request.full_url, status, "", message, io.BytesIO(json.dumps(body).encode()))

        monkeypatch.setattr("urllib.request.urlopen", urlopen)

    return use


GITHUB = lambda: github_offline()  # noqa: E731
DISCORD = lambda: DiscordProvisioner(lambda: DiscordToolConfig(bot_token=SecretStr("t")))  # noqa: E731
HUB = lambda: HubProvisioner(lambda: HubToolConfig(hubs={"jupyter": HubConfig(  # noqa: E731
    api_url="https://hub.example", token=SecretStr("t"))}))


def github_offline():
    return GitHubProvisioner(lambda: GitHubToolConfig(token=SecretStr("t")))


@pytest.mark.parametrize(("case", "adapter", "tool", "raised", "retry_after"), [
    ("github primary rate limit", GITHUB, GITHUB_TOOL, ToolUnavailable, None),
    ("github secondary rate limit", GITHUB, GITHUB_TOOL, ToolUnavailable, 60.0),
    ("github 502", GITHUB, GITHUB_TOOL, ToolUnavailable, None),
    ("github 404", GITHUB, GITHUB_TOOL, ToolRejected, None),
    ("github 403 permission", GITHUB, GITHUB_TOOL, ToolRejected, None),
    ("discord 429", DISCORD, DISCORD_TOOL, ToolUnavailable, 2.0),
    ("discord 404", DISCORD, DISCORD_TOOL, ToolRejected, None),
    ("discord 500", DISCORD, DISCORD_TOOL, ToolUnavailable, None),
    ("hub 503", HUB, HUB_TOOL, ToolUnavailable, None),
])
def test_recorded_errors_on_provision(replay, case, adapter, tool, raised, retry_after):
    replay(case)
    with pytest.raises(raised) as error:
        adapter().provision(student("octocat"), tool)
    if raised is ToolUnavailable:
        assert error.value.retry_after_seconds == retry_after


@pytest.mark.parametrize(("case", "adapter", "tool"), [
    ("github 404", GITHUB, GITHUB_TOOL), ("hub 404", HUB, HUB_TOOL)])
def test_recorded_404_on_revoke_means_already_gone(replay, case, adapter, tool):
    replay(case)
    adapter().revoke(student("octocat"), tool, ProvisionedTool(tool_id=tool.tool_id, name=tool.name, kind=tool.kind,
                                                               details={"repository": "coursepay-fsd/gone",
                                                                        "github_username": "octocat"}))


def test_an_unreachable_service_is_retryable():
    dead = GitHubProvisioner(lambda: GitHubToolConfig(token=SecretStr("t"), api_base="http://127.0.0.1:9"))
    with pytest.raises(ToolUnavailable, match="unreachable"):
        dead.provision(student(), GITHUB_TOOL)
