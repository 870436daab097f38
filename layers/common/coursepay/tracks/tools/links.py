"""Tools that are only a link (Superset and Prefect workspaces): ``url_template`` completed with the student's
workspace. Nothing is created, so nothing is revoked but the record; no adapter of a real service stands behind
these yet."""

from __future__ import annotations

from coursepay.tracks.catalogue import Tool
from coursepay.tracks.tools.interface import ProvisionedTool, Student


class LinkProvisioner:
    def provision(self, student: Student, tool: Tool) -> ProvisionedTool:
        assert tool.url_template is not None  # the catalogue validates it for kind link
        return ProvisionedTool(tool_id=tool.tool_id, name=tool.name, kind="link",
                               url=tool.url_template.format(workspace=student.workspace))

    def revoke(self, student: Student, tool: Tool, provisioned: ProvisionedTool) -> None:
        return None
