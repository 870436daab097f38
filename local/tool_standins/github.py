"""GitHub REST API stand-in (version 2022-11-28): the endpoints the GitHub adapter calls.

``POST /repos/{template_owner}/{template_repo}/generate``, ``GET``/``PATCH /repos/{owner}/{repo}`` (archive and
un-archive; an archived repository is read-only: 403), ``PUT``/``DELETE
/repos/{owner}/{repo}/collaborators/{username}`` (201 an invitation, 204 already a collaborator, 404 an unknown
user; DELETE also cancels a pending invitation). ``Authorization: Bearer <token>`` is required (401 "Bad
credentials" otherwise) and an ``X-GitHub-Api-Version`` other than a supported one is a 400, like GitHub's.
Template repositories and existing users are set up through the control routes (``/_standins/github/...``).
"""

from __future__ import annotations

import itertools
import re
import threading
import time
from typing import Any

from local.tool_standins.http import Request, Response, Router

SUPPORTED_VERSIONS = {"2022-11-28"}
DOCS = "https://docs.github.com/rest"
NAME = re.compile(r"^[A-Za-z0-9._-]{1,100}$")


def _error(status: int, message: str, **extra: Any) -> Response:
    return Response(status, {"message": message, "documentation_url": DOCS, "status": str(status), **extra})


class GitHubStandin:
    def __init__(self, token: str, base_url: str) -> None:
        self._token = token
        self._web = base_url.rstrip("/") + "/web"  # html_url of repositories (nothing is served there)
        self._lock = threading.Lock()
        self._ids = itertools.count(1000)
        self.repositories: dict[str, dict[str, Any]] = {}  # lower-case full name -> repository
        self.collaborators: dict[str, set[str]] = {}
        self.invitations: dict[str, dict[str, dict[str, Any]]] = {}  # repo -> login -> invitation
        self.users: set[str] = set()
        self.router = Router()
        self.router.add("POST", "/repos/{owner}/{repo}/generate", self.generate)
        self.router.add("GET", "/repos/{owner}/{repo}", self.get)
        self.router.add("PATCH", "/repos/{owner}/{repo}", self.update)
        self.router.add("PUT", "/repos/{owner}/{repo}/collaborators/{username}", self.add_collaborator)
        self.router.add("DELETE", "/repos/{owner}/{repo}/collaborators/{username}", self.remove_collaborator)

    # -------------------------------------------------------------- control
    def add_template(self, full_name: str) -> dict[str, Any]:
        owner, name = full_name.split("/")
        with self._lock:
            return self._new_repository(owner, name, private=False, is_template=True, template=None)

    def add_user(self, login: str) -> None:
        with self._lock:
            self.users.add(login.lower())

    def state(self) -> dict[str, Any]:
        with self._lock:
            return {"repositories": list(self.repositories.values()),
                    "collaborators": {repo: sorted(users) for repo, users in self.collaborators.items()},
                    "invitations": {repo: list(invites.values()) for repo, invites in self.invitations.items()}}

    # -------------------------------------------------------------- API
    def check(self, request: Request) -> Response | None:
        auth = request.headers.get("authorization", "")
        if not auth:
            return _error(401, "Requires authentication")
        if auth != f"Bearer {self._token}":
            return _error(401, "Bad credentials")
        version = request.headers.get("x-github-api-version")
        if version is not None and version not in SUPPORTED_VERSIONS:
            return _error(400, f"API version {version} not supported")
        return None

    def _new_repository(self, owner: str, name: str, *, private: bool, is_template: bool,
                        template: dict[str, Any] | None, description: str | None = None) -> dict[str, Any]:
        full_name = f"{owner}/{name}"
        repository = {
            "id": next(self._ids), "name": name, "full_name": full_name, "private": private,
            "owner": {"login": owner, "type": "Organization"}, "html_url": f"{self._web}/{full_name}",
            "description": description, "archived": False, "is_template": is_template,
            "created_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "template_repository": ({"id": template["id"], "full_name": template["full_name"],
                                     "name": template["name"]} if template else None),
        }
        self.repositories[full_name.lower()] = repository
        return repository

    def _repository(self, owner: str, repo: str) -> dict[str, Any] | None:
        return self.repositories.get(f"{owner}/{repo}".lower())

    def generate(self, request: Request, owner: str, repo: str) -> Response:
        body = request.json_object()
        with self._lock:
            template = self._repository(owner, repo)
            if template is None or not template["is_template"]:
                return _error(404, "Not Found")
            new_owner, name = str(body.get("owner") or owner), body.get("name")
            if not isinstance(name, str) or not NAME.match(name):
                return _error(422, "Invalid request.", errors=[{"resource": "Repository", "field": "name",
                                                                 "code": "missing_field"}])
            if self._repository(new_owner, name) is not None:
                return _error(422, "Repository creation failed.", errors=[{
                    "resource": "Repository", "code": "custom", "field": "name",
                    "message": "name already exists on this account"}])
            created = self._new_repository(new_owner, name, private=bool(body.get("private")), is_template=False,
                                           template=template, description=body.get("description"))
            return Response(201, dict(created))

    def get(self, request: Request, owner: str, repo: str) -> Response:
        with self._lock:
            found = self._repository(owner, repo)
            return Response(200, dict(found)) if found else _error(404, "Not Found")

    def update(self, request: Request, owner: str, repo: str) -> Response:
        body = request.json_object()
        with self._lock:
            found = self._repository(owner, repo)
            if found is None:
                return _error(404, "Not Found")
            if found["archived"] and set(body) - {"archived"}:
                return _error(403, "Repository was archived so is read-only.")
            for key in ("archived", "description", "private"):
                if key in body:
                    found[key] = body[key]
            return Response(200, dict(found))

    def _writable(self, owner: str, repo: str) -> tuple[dict[str, Any] | None, Response | None]:
        """The repository, or GitHub's answer when it is missing (404) or archived (403: read-only)."""
        found = self._repository(owner, repo)
        if found is None:
            return None, _error(404, "Not Found")
        if found["archived"]:
            return None, _error(403, "Repository was archived so is read-only.")
        return found, None

    def add_collaborator(self, request: Request, owner: str, repo: str, username: str) -> Response:
        with self._lock:
            found, refused = self._writable(owner, repo)
            if refused is not None:
                return refused
            assert found is not None
            if username.lower() not in self.users:
                return _error(404, "Not Found")
            key = found["full_name"]
            if username.lower() in self.collaborators.get(key, set()):
                return Response(204)
            invitations = self.invitations.setdefault(key, {})
            invitation = invitations.get(username.lower()) or {
                "id": next(self._ids), "repository": {"full_name": key}, "invitee": {"login": username},
                "permissions": str(request.json_object().get("permission", "push")),
                "created_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                "html_url": f"{found['html_url']}/invitations"}
            invitations[username.lower()] = invitation
            return Response(201, dict(invitation))

    def remove_collaborator(self, request: Request, owner: str, repo: str, username: str) -> Response:
        with self._lock:
            found, refused = self._writable(owner, repo)
            if refused is not None:
                return refused
            assert found is not None
            self.collaborators.get(found["full_name"], set()).discard(username.lower())
            self.invitations.get(found["full_name"], {}).pop(username.lower(), None)  # pending ones are canceled
            return Response(204)

    def accept_invitation(self, full_name: str, login: str) -> bool:
        """What the invitee does on github.com (a control route): the invitation becomes a collaborator."""
        with self._lock:
            found = self.repositories.get(full_name.lower())
            if found is None or self.invitations.get(found["full_name"], {}).pop(login.lower(), None) is None:
                return False
            self.collaborators.setdefault(found["full_name"], set()).add(login.lower())
            return True
