"""GitHub (the FSD track): a private repository per student, generated from the track's template repository in
the organisation, and an invitation for the student's GitHub account.

Endpoints (REST API 2022-11-28, ``Authorization: Bearer``): ``POST /repos/{template_owner}/{template_repo}/generate``;
on 422 "name already exists" the repository is read (``GET /repos/{owner}/{repo}``) and accepted only if it is
ours — generated from the same template — (an archived one, after a withdrawal, is un-archived for a
re-enrolment); ``PUT /repos/{owner}/{repo}/collaborators/{username}`` (201 an invitation, 204 already a
collaborator, 404 no such GitHub user). Without a username on the student's profile the repository is made and
the invitation waits (``waiting_for="github_username"``) until they set one. Revocation removes the collaborator
(GitHub cancels a pending invitation with it) and then archives the repository (``PATCH archived=true``): the
work is kept read-only; an archived or missing repository counts as revoked. Rate limits and 5xx are raised by
``http.JsonClient`` (retried).
"""

from __future__ import annotations

from collections.abc import Callable

from coursepay.tracks.catalogue import Tool
from coursepay.tracks.tools.config import GitHubToolConfig
from coursepay.tracks.tools.http import JsonClient, JsonResponse
from coursepay.tracks.tools.interface import ProvisionedTool, Student, ToolRejected

API_VERSION = "2022-11-28"
PERMISSION = "push"


def _already_exists(response: JsonResponse) -> bool:
    errors = response.field("errors") or []
    messages = [str(response.field("message") or "")] + [str(e.get("message", "")) for e in errors
                                                           if isinstance(e, dict)]
    return response.status == 422 and any("already exists" in message for message in messages)


class GitHubProvisioner:
    def __init__(self, config: Callable[[], GitHubToolConfig]) -> None:
        self._config = config

    def _client(self) -> JsonClient:
        config = self._config()
        return JsonClient("GitHub", config.api_base, {
            "Authorization": f"Bearer {config.token.get_secret_value()}",
            "Accept": "application/vnd.github+json", "X-GitHub-Api-Version": API_VERSION})

    def provision(self, student: Student, tool: Tool) -> ProvisionedTool:
        assert tool.template_repository is not None  # the catalogue validates it for kind github
        owner, template = tool.template_repository.split("/")
        github = self._client()
        repository = self._ensure_repository(github, owner, template, student)
        full_name = str(repository["full_name"])
        details = {"repository": full_name}
        waiting_for = None
        if student.github_username:
            details["github_username"] = student.github_username
            details["invitation"] = self._invite(github, full_name, student.github_username)
            if details["invitation"] == "unknown_user":
                waiting_for = "github_username"
        else:
            details["invitation"] = "waiting_for_username"
            waiting_for = "github_username"
        return ProvisionedTool(tool_id=tool.tool_id, name=tool.name, kind="github", url=str(repository["html_url"]),
                               username=student.github_username, details=details, waiting_for=waiting_for)

    def _ensure_repository(self, github: JsonClient, owner: str, template: str, student: Student) -> dict[str, object]:
        created = github.request("POST", f"/repos/{owner}/{template}/generate", {
            "owner": owner, "name": student.workspace, "private": True, "include_all_branches": False,
            "description": f"coursepay {student.track_id} workspace {student.workspace}"})
        if created.status == 201:
            return dict(created.body)
        if created.status == 404:
            raise github.rejected(f"template {owner}/{template} (missing, or the token cannot read it)", created)
        if not _already_exists(created):
            raise github.rejected(f"generating {owner}/{student.workspace}", created)
        existing = github.request("GET", f"/repos/{owner}/{student.workspace}")
        if existing.status != 200:
            raise github.rejected(f"reading the existing {owner}/{student.workspace}", existing)
        source = (existing.field("template_repository") or {}).get("full_name", "")
        if str(source).lower() != f"{owner}/{template}".lower():
            raise ToolRejected(f"{owner}/{student.workspace} exists but was not generated from {owner}/{template}")
        if existing.field("archived"):
            unarchived = github.request("PATCH", f"/repos/{owner}/{student.workspace}", {"archived": False})
            if unarchived.status != 200:
                raise github.rejected(f"un-archiving {owner}/{student.workspace}", unarchived)
        return dict(existing.body)

    @staticmethod
    def _invite(github: JsonClient, full_name: str, username: str) -> str:
        invited = github.request("PUT", f"/repos/{full_name}/collaborators/{username}", {"permission": PERMISSION})
        if invited.status == 201:
            return "sent"
        if invited.status == 204:
            return "accepted"  # already a collaborator
        if invited.status == 404:
            return "unknown_user"
        raise github.rejected(f"inviting {username} to {full_name}", invited)

    def revoke(self, student: Student, tool: Tool, provisioned: ProvisionedTool) -> None:
        full_name = provisioned.details.get("repository")
        if not full_name:
            assert tool.template_repository is not None
            full_name = f"{tool.template_repository.split('/')[0]}/{student.workspace}"
        github = self._client()
        current = github.request("GET", f"/repos/{full_name}")
        if current.status == 404 or current.field("archived"):
            return  # gone, or archived after its collaborator was removed: revoked already
        if current.status != 200:
            raise github.rejected(f"reading {full_name}", current)
        username = provisioned.details.get("github_username")
        if username:
            removed = github.request("DELETE", f"/repos/{full_name}/collaborators/{username}")
            if removed.status not in (204, 404):
                raise github.rejected(f"removing {username} from {full_name}", removed)
        archived = github.request("PATCH", f"/repos/{full_name}", {"archived": True})
        if archived.status not in (200, 404):  # 404: the repository is gone, nothing left to revoke
            raise github.rejected(f"archiving {full_name}", archived)
