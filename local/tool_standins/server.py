"""The stand-ins on one HTTP server (stdlib), started by the local stack and by tests in-process.

    >>> standins = ToolStandins().start()     # a free port on 127.0.0.1
    >>> standins.github_api, standins.discord_api, standins.hub_url("jupyter")
    >>> standins.stop()

Paths: ``/github/...`` (GitHub's API), ``/discord/api/v10/...`` (Discord's), ``/hubs/<hub_id>/hub/api/...``
(each hub's), ``/zoom/oauth/token`` and ``/zoom/v2/...`` (Zoom's OAuth and meetings API), and the control routes
``/_standins/...`` (README.md beside this file).
"""

from __future__ import annotations

import json
import threading
import urllib.parse
from collections.abc import Iterable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from local.tool_standins.discord import DiscordStandin
from local.tool_standins.faults import SERVICES, Fault, Faults
from local.tool_standins.github import GitHubStandin
from local.tool_standins.http import Request, Response, Router
from local.tool_standins.hub import HubStandin
from local.tool_standins.zoom import ZoomStandin

GITHUB_TOKEN = "ghs_local_standin_token"
DISCORD_BOT_TOKEN = "local.standin.discord-bot-token"
HUB_TOKENS = {"jupyter": "local-jupyterhub-token", "code_server": "local-code-server-hub-token"}
ZOOM_ACCOUNT_ID = "standin_account"
ZOOM_CLIENT_ID = "standin_zoom_client"
ZOOM_CLIENT_SECRET = "standin_zoom_client_secret"
PREFIXES = {"github": "/github", "discord": "/discord/api/v10", "hub": "/hubs", "zoom": "/zoom"}


class ToolStandins:
    def __init__(self, host: str = "127.0.0.1", port: int = 0, *, github_token: str = GITHUB_TOKEN,
                 discord_token: str = DISCORD_BOT_TOKEN, hub_tokens: dict[str, str] | None = None,
                 github_templates: Iterable[str] = (), discord_channels: Iterable[str] = ()) -> None:
        self._httpd = ThreadingHTTPServer((host, port), _Handler)
        self._httpd.daemon_threads = True
        bound_host, bound_port = self._httpd.server_address[:2]
        self.url = f"http://{bound_host!s}:{bound_port}"
        self.github = GitHubStandin(github_token, self.url + PREFIXES["github"])
        self.discord = DiscordStandin(discord_token)
        self.hubs = HubStandin(hub_tokens or HUB_TOKENS)
        self.zoom = ZoomStandin(ZOOM_ACCOUNT_ID, ZOOM_CLIENT_ID, ZOOM_CLIENT_SECRET, self.url + PREFIXES["zoom"])
        self.faults = Faults()
        for template in github_templates:
            self.github.add_template(template)
        for channel in discord_channels:
            self.discord.add_channel(channel)
        self.control = self._control_routes()
        self._httpd.standins = self  # type: ignore[attr-defined]
        self._thread: threading.Thread | None = None

    @property
    def github_api(self) -> str:
        return self.url + PREFIXES["github"]

    @property
    def discord_api(self) -> str:
        return self.url + PREFIXES["discord"]

    @property
    def zoom_url(self) -> str:
        """Both Zoom bases: ``<zoom_url>/oauth/token`` and the API at ``<zoom_url>/v2``."""
        return self.url + PREFIXES["zoom"]

    def hub_url(self, hub_id: str) -> str:
        return f"{self.url}{PREFIXES['hub']}/{hub_id}"

    def start(self) -> ToolStandins:
        self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.1},
                                        daemon=True, name="tool-standins")
        self._thread.start()
        return self

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    # -------------------------------------------------------------- dispatch
    def handle(self, request: Request) -> Response:
        if request.path.startswith("/_standins/"):
            return self.control.dispatch(request) or Response(404, {"message": "no such control route"})
        for service, prefix in PREFIXES.items():
            if request.path.startswith(prefix + "/"):
                inner = Request(request.method, request.path[len(prefix):], request.headers, request.body,
                                request.query)
                return self._service(service, inner)
        return Response(404, {"message": "Not Found"})

    def _service(self, service: str, request: Request) -> Response:
        standins: dict[str, GitHubStandin | DiscordStandin | HubStandin | ZoomStandin] = {
            "github": self.github, "discord": self.discord, "hub": self.hubs, "zoom": self.zoom}
        standin = standins[service]
        refused = standin.check(request)
        if refused is not None:
            return refused
        forced = self.faults.take(service, request.path)
        if forced is not None:
            return forced
        answer = standin.router.dispatch(request) or Response(404, {"message": "Not Found"})
        if service == "github":
            answer.headers.setdefault("x-ratelimit-limit", "5000")
            answer.headers.setdefault("x-ratelimit-remaining", "4999")
            answer.headers.setdefault("x-github-api-version-selected", "2022-11-28")
        return answer

    # -------------------------------------------------------------- control
    def _control_routes(self) -> Router:
        router = Router()
        router.add("GET", "/_standins/state", lambda request: Response(200, {
            "github": self.github.state(), "discord": self.discord.state(), "hubs": self.hubs.state(),
            "zoom": self.zoom.state()}))
        router.add("POST", "/_standins/faults", self._add_fault)
        router.add("DELETE", "/_standins/faults", self._clear_faults)
        router.add("POST", "/_standins/github/users", self._add_github_user)
        router.add("POST", "/_standins/github/templates", self._add_github_template)
        router.add("POST", "/_standins/github/invitations/accept", self._accept_invitation)
        router.add("POST", "/_standins/discord/channels", self._add_channel)
        router.add("POST", "/_standins/zoom/revoke-tokens", self._revoke_zoom_tokens)
        return router

    @staticmethod
    def _field(body: dict[str, Any], name: str) -> str | None:
        value = body.get(name)
        return value if isinstance(value, str) and value else None

    def _add_fault(self, request: Request) -> Response:
        body = request.json_object()
        service, status = body.get("service"), body.get("status")
        if service not in SERVICES or not isinstance(status, int) or not 400 <= status <= 599:
            return Response(400, {"message": f"service one of {SERVICES}, status 400-599"})
        times = body.get("times", 1)
        retry_after = body.get("retry_after", 1)
        self.faults.add(Fault(service=service, status=status, times=int(times), retry_after=int(retry_after),
                              path_contains=self._field(body, "path_contains")))
        return Response(201, {"service": service, "status": status, "times": times})

    def _clear_faults(self, request: Request) -> Response:
        self.faults.clear()
        return Response(204)

    def _add_github_user(self, request: Request) -> Response:
        login = self._field(request.json_object(), "login")
        if login is None:
            return Response(400, {"message": "login is required"})
        self.github.add_user(login)
        return Response(201, {"login": login})

    def _add_github_template(self, request: Request) -> Response:
        full_name = self._field(request.json_object(), "full_name")
        if full_name is None or full_name.count("/") != 1:
            return Response(400, {"message": "full_name owner/name is required"})
        return Response(201, self.github.add_template(full_name))

    def _accept_invitation(self, request: Request) -> Response:
        body = request.json_object()
        repository, login = self._field(body, "repository"), self._field(body, "login")
        if repository is None or login is None:
            return Response(400, {"message": "repository and login are required"})
        accepted = self.github.accept_invitation(repository, login)
        return Response(200 if accepted else 404, {"accepted": accepted})

    def _revoke_zoom_tokens(self, request: Request) -> Response:
        self.zoom.revoke_tokens()
        return Response(204)

    def _add_channel(self, request: Request) -> Response:
        channel_id = self._field(request.json_object(), "channel_id")
        if channel_id is None:
            return Response(400, {"message": "channel_id is required"})
        self.discord.add_channel(channel_id, self._field(request.json_object(), "name") or "general")
        return Response(201, {"channel_id": channel_id})


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def _serve(self) -> None:
        length = int(self.headers.get("content-length") or 0)
        raw = self.rfile.read(length) if length else b""
        form = self.headers.get("content-type", "").startswith("application/x-www-form-urlencoded")
        try:
            body = dict(urllib.parse.parse_qsl(raw.decode())) if form else json.loads(raw) if raw else None
        except ValueError:
            self._send(Response(400, {"message": "Problems parsing JSON"}))
            return
        headers = {key.lower(): value for key, value in self.headers.items()}
        standins: ToolStandins = self.server.standins  # type: ignore[attr-defined]
        path, _, query = self.path.partition("?")
        self._send(standins.handle(Request(self.command, path, headers, body, dict(urllib.parse.parse_qsl(query)))))

    def _send(self, response: Response) -> None:
        payload = response.encoded()
        self.send_response(response.status)
        for name, value in response.headers.items():
            self.send_header(name, value)
        if payload:
            self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _serve

    def log_message(self, format: str, *args: Any) -> None:  # quiet: the stack logs what it needs
        return
