"""The provisioner interface every tool adapter implements, and what they exchange.

``provision`` is idempotent: called again for the same student and tool it changes nothing and returns the same
result (an existing role, repository or hub user is recognised as ours and kept). ``revoke`` is idempotent too:
what is already gone counts as revoked. Failures are raised, never swallowed: ``ToolUnavailable`` (the service
is down, or rate-limited us) and ``ToolRejected`` (it refused the request: a configuration error) both fail the
SQS message, so the consumer retries it and, after ``maxReceiveCount`` receives, the DLQ holds it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal, Protocol

from pydantic import BaseModel, Field

from coursepay.clock import iso_now
from coursepay.errors import DomainError, UpstreamUnavailable
from coursepay.tracks.catalogue import Tool, ToolKind

ToolState = Literal["pending", "provisioned", "revoked"]


@dataclass(frozen=True)
class Student:
    """Who a tool is provisioned for. ``workspace`` (``<track>-<12 hex>``) names everything made for them, so no
    tool sees the raw user id; ``password`` is generated once per enrollment and stored only encrypted (vault);
    ``github_username`` is what the student entered on their profile, if anything."""

    user_id: str
    track_id: str
    workspace: str
    password: str = field(default="", repr=False)  # never in a log line or a traceback
    github_username: str | None = None


class ProvisionedTool(BaseModel):
    """What one tool is for one student: shown on their page. Holds no secret (the password is in the vault)."""

    tool_id: str
    name: str
    kind: ToolKind = "link"
    state: ToolState = "provisioned"
    url: str | None = None
    username: str | None = None
    details: dict[str, str] = Field(default_factory=dict)  # e.g. schema, repository, invitation state
    waiting_for: str | None = None  # what the student must do first, e.g. "github_username"
    uses_password: bool = False  # the page shows the student's tool password with it
    updated_at: str = Field(default_factory=iso_now)


class ToolUnavailable(UpstreamUnavailable):
    """The tool's service failed in a way a retry may fix (5xx, timeout, rate limit)."""

    def __init__(self, message: str, *, retry_after_seconds: float | None = None) -> None:
        super().__init__(message)
        self.retry_after_seconds = retry_after_seconds


class ToolRejected(DomainError):
    """The tool's service refused the request (401/403/404/422 on something that must exist): a configuration
    problem for an operator; retried all the same, so that the DLQ ends up holding the message."""

    code = "tool_rejected"


class Provisioner(Protocol):
    def provision(self, student: Student, tool: Tool) -> ProvisionedTool: ...

    def revoke(self, student: Student, tool: Tool, provisioned: ProvisionedTool) -> None: ...
