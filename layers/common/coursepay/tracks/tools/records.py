"""What was provisioned for a student in a track: one item in the enrollments table,
``pk=USER#<user>, sk=tools#track#<track>`` (no ``kind``/``status``, so enrollment queries never return it).

It holds the catalogue's tools as they were at the purchase (``config``: what revocation and a late GitHub
invitation need, without the catalogue), each tool's outcome, and the student's tool password encrypted
(``credential``, vault). Every write is conditional on the ``version`` read, so concurrent handlers (an
enrollment and a withdrawal of the same student) never overwrite each other's outcome: the loser retries.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from coursepay.clock import iso_now
from coursepay.storage.dynamo import DynamoTable, item_to_model
from coursepay.tracks.catalogue import Tool
from coursepay.tracks.tools.interface import ProvisionedTool

ToolSetState = Literal["provisioning", "provisioned", "revoked"]


class ToolSet(BaseModel):
    user_id: str
    track_id: str
    workspace: str
    payment_id: str | None = None  # the enrollment's payment these tools were provisioned for
    state: ToolSetState = "provisioning"
    config: list[Tool] = Field(default_factory=list)
    tools: list[ProvisionedTool] = Field(default_factory=list)
    credential: str | None = Field(default=None, repr=False)  # KMS ciphertext (base64) of the tool password
    version: int = 0
    provisioned_at: str | None = None
    revoked_at: str | None = None
    updated_at: str = Field(default_factory=iso_now)

    def tool(self, tool_id: str) -> ProvisionedTool | None:
        return next((tool for tool in self.tools if tool.tool_id == tool_id), None)

    def with_tool(self, outcome: ProvisionedTool) -> ToolSet:
        tools = [outcome if tool.tool_id == outcome.tool_id else tool for tool in self.tools]
        if self.tool(outcome.tool_id) is None:
            tools.append(outcome)
        return self.model_copy(update={"tools": tools})


def tools_key(user_id: str, track_id: str) -> dict[str, str]:
    return {"pk": f"USER#{user_id}", "sk": f"tools#track#{track_id}"}


class ToolSetRepository:
    def __init__(self, enrollments_table: str) -> None:
        self._table = DynamoTable(enrollments_table)

    def get(self, user_id: str, track_id: str, *, consistent: bool = True) -> ToolSet | None:
        item = self._table.get(tools_key(user_id, track_id), consistent=consistent)
        return item_to_model(ToolSet, item) if item else None

    def save(self, tools: ToolSet, *, expected_version: int | None) -> ToolSet:
        """Write ``tools`` as the next version; ``expected_version=None`` creates it. ConditionFailed when another
        writer got there first."""
        stored = tools.model_copy(update={"version": (expected_version or 0) + 1, "updated_at": iso_now()})
        item = {**tools_key(tools.user_id, tools.track_id), **stored.model_dump(mode="json")}
        if expected_version is None:
            self._table.put(item, condition="attribute_not_exists(pk)")
        else:
            self._table.put(item, condition="attribute_not_exists(version) OR version = :v",
                            values={":v": expected_version})
        return stored
