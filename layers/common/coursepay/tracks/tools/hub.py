"""JupyterHub-style hubs (Jupyter for DP, code-server behind a hub for FSD): a hub user per student, created
through the hub's REST API (``POST /hub/api/users/{name}``, ``Authorization: token <token>``; 201 created,
409 exists = ours already) and deleted on revocation (``DELETE /hub/api/users/{name}``; 404 = gone). The user
name is the student's workspace; they sign in to the hub through its authenticator, so no password is made
here. Where the student opens it is the catalogue's ``url_template`` with ``{username}``.
"""

from __future__ import annotations

from collections.abc import Callable

from coursepay.tracks.catalogue import Tool
from coursepay.tracks.tools.config import HubToolConfig
from coursepay.tracks.tools.http import JsonClient
from coursepay.tracks.tools.interface import ProvisionedTool, Student, ToolRejected


class HubProvisioner:
    def __init__(self, config: Callable[[], HubToolConfig]) -> None:
        self._config = config

    def _client(self, tool: Tool) -> JsonClient:
        hub = self._config().hubs.get(str(tool.hub_id))
        if hub is None:
            raise ToolRejected(f"no hub {tool.hub_id!r} in the hub tool secret")
        return JsonClient(f"hub {tool.hub_id}", hub.api_url, {"Authorization": f"token {hub.token.get_secret_value()}"})

    def provision(self, student: Student, tool: Tool) -> ProvisionedTool:
        hub = self._client(tool)
        name = student.workspace
        created = hub.request("POST", f"/hub/api/users/{name}")
        if created.status not in (201, 409):
            raise hub.rejected(f"creating user {name}", created)
        url = tool.url_template.format(username=name, workspace=name) if tool.url_template else None
        return ProvisionedTool(tool_id=tool.tool_id, name=tool.name, kind="hub", url=url, username=name,
                               details={"hub": str(tool.hub_id)})

    def revoke(self, student: Student, tool: Tool, provisioned: ProvisionedTool) -> None:
        hub = self._client(tool)
        deleted = hub.request("DELETE", f"/hub/api/users/{student.workspace}")
        if deleted.status not in (204, 404):
            raise hub.rejected(f"deleting user {student.workspace}", deleted)
