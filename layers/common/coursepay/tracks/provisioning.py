"""Tool provisioning for track students (the provisioning consumer's handlers), through one adapter per tool kind
(``coursepay.tracks.tools``).

``track.enrollment.created``: the tool set is recorded first (every tool ``pending``, the student's tool password
generated and stored encrypted), then each tool that is not provisioned yet goes through its adapter and its
outcome is written as soon as it is known. An adapter's failure is raised: the message is retried (tools already
provisioned are skipped, the one that failed is asked again: adapters are idempotent) and in the end the DLQ holds
it. An enrollment already withdrawn when the event is handled provisions nothing; one withdrawn while its tools
were being made has them revoked at the end.

``track.enrollment.withdrawn`` (full refund, lost dispute): every tool is revoked through its adapter (idempotent;
a tool that was never made is gone already) and the set marked ``revoked``.

``track.tool_accounts.changed``: a student set their GitHub username; GitHub tools waiting for it are provisioned
again, which sends the invitation.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import TYPE_CHECKING

from coursepay.billing.enrollments import EnrollmentsRepository
from coursepay.clock import iso_now
from coursepay.events.envelope import Envelope
from coursepay.events.handlers import EnvelopeHandler
from coursepay.observability import logger
from coursepay.storage.audit import AuditEntry, AuditTrail
from coursepay.tracks.catalogue import Tool, ToolKind
from coursepay.tracks.events import (
    TOOL_ACCOUNTS_CHANGED,
    TRACK_ENROLLED,
    TRACK_WITHDRAWN,
    ToolAccountsChanged,
    TrackEnrolled,
    TrackWithdrawn,
)
from coursepay.tracks.tools.accounts import ToolAccountsRepository
from coursepay.tracks.tools.interface import ProvisionedTool, Provisioner, Student
from coursepay.tracks.tools.records import ToolSet, ToolSetRepository
from coursepay.tracks.tools.vault import CredentialVault, new_tool_password

if TYPE_CHECKING:
    from coursepay.settings import ProvisioningSettings


def workspace_for(user_id: str, track_id: str) -> str:
    """Stable, URL-safe and not the raw user id: ``<track>-<12 hex of sha256(user#track)>``."""
    return f"{track_id.lower()}-{hashlib.sha256(f'{user_id}#{track_id}'.encode()).hexdigest()[:12]}"


def _summary(tools: ToolSet) -> dict[str, object]:
    """What the audit trail keeps of a tool set: outcomes, never the credential."""
    return {"workspace": tools.workspace, "payment_id": tools.payment_id, "state": tools.state,
            "tools": [{"tool_id": t.tool_id, "kind": t.kind, "state": t.state, "url": t.url,
                       "waiting_for": t.waiting_for} for t in tools.tools]}


class TrackProvisioning:
    def __init__(self, *, records: ToolSetRepository, enrollments: EnrollmentsRepository,
                 accounts: ToolAccountsRepository, vault: CredentialVault,
                 provisioners: Mapping[ToolKind, Provisioner], audit: AuditTrail) -> None:
        self._records = records
        self._enrollments = enrollments
        self._accounts = accounts
        self._vault = vault
        self._provisioners = provisioners
        self._audit = audit

    # ------------------------------------------------------------------ enrolled
    def on_enrolled(self, envelope: Envelope) -> None:
        event = TrackEnrolled.model_validate(envelope.data)
        actor = f"event:{envelope.id}"
        if self._withdrawn(event.user_id, event.track_id):
            logger.info("enrollment withdrawn before its tools were made", user_id=event.user_id,
                        track_id=event.track_id)
            return
        tools = self._records.get(event.user_id, event.track_id)
        if tools is not None and tools.state == "revoked" and tools.payment_id == event.payment_id:
            return  # this purchase was withdrawn already; its tools are gone
        tools = self._start(tools, event)
        tools = self._provision(tools, tools.config)
        self._audit.record(AuditEntry(entity=f"enrollment#{event.user_id}#track#{event.track_id}",
                                      action="tools.provisioned", actor=actor, after=_summary(tools)))
        if self._withdrawn(event.user_id, event.track_id):  # withdrawn while we were at it
            self._revoke(tools, actor, reason="withdrawn_during_provisioning")

    def _withdrawn(self, user_id: str, track_id: str) -> bool:
        enrollment = self._enrollments.get(user_id, "track", track_id)
        return enrollment is None or enrollment.status == "withdrawn"

    def _start(self, existing: ToolSet | None, event: TrackEnrolled) -> ToolSet:
        """The record every later step updates: created once per purchase (a new purchase after a withdrawal
        starts again, with the same password: the role and schema of the first one come back)."""
        if existing is not None and existing.payment_id == event.payment_id:
            return existing
        password_ciphertext = existing.credential if existing and existing.credential else self._vault.seal(
            new_tool_password(), user_id=event.user_id, track_id=event.track_id)
        fresh = ToolSet(user_id=event.user_id, track_id=event.track_id,
                        workspace=workspace_for(event.user_id, event.track_id), payment_id=event.payment_id,
                        state="provisioning", config=list(event.tools), credential=password_ciphertext,
                        tools=[ProvisionedTool(tool_id=t.tool_id, name=t.name, kind=t.kind, state="pending",
                                               uses_password=t.kind == "postgres") for t in event.tools])
        return self._records.save(fresh, expected_version=existing.version if existing else None)

    def _student(self, tools: ToolSet) -> Student:
        password = self._vault.open(tools.credential, user_id=tools.user_id, track_id=tools.track_id) \
            if tools.credential else ""
        accounts = self._accounts.get(tools.user_id)
        return Student(user_id=tools.user_id, track_id=tools.track_id, workspace=tools.workspace, password=password,
                       github_username=accounts.github_username if accounts else None)

    def _provision(self, tools: ToolSet, wanted: list[Tool]) -> ToolSet:
        student = self._student(tools)
        for tool in wanted:
            current = tools.tool(tool.tool_id)
            if current is not None and current.state == "provisioned" and current.waiting_for is None:
                continue
            outcome = self._provisioners[tool.kind].provision(student, tool)
            tools = self._records.save(tools.with_tool(outcome), expected_version=tools.version)
            logger.info("tool provisioned", user_id=tools.user_id, track_id=tools.track_id, tool_id=tool.tool_id,
                        kind=tool.kind, waiting_for=outcome.waiting_for)
        if tools.state != "provisioned":
            tools = self._records.save(tools.model_copy(update={"state": "provisioned", "provisioned_at": iso_now()}),
                                       expected_version=tools.version)
        return tools

    # ------------------------------------------------------------------ withdrawn
    def on_withdrawn(self, envelope: Envelope) -> None:
        event = TrackWithdrawn.model_validate(envelope.data)
        tools = self._records.get(event.user_id, event.track_id)
        if tools is None:
            # Nothing made yet: a marker, so that a late enrollment event of this purchase makes nothing either.
            self._records.save(ToolSet(user_id=event.user_id, track_id=event.track_id,
                                       workspace=workspace_for(event.user_id, event.track_id),
                                       payment_id=event.payment_id, state="revoked", revoked_at=iso_now()),
                               expected_version=None)
            return
        if tools.state != "revoked":
            self._revoke(tools, f"event:{envelope.id}", reason=event.reason)

    def _revoke(self, tools: ToolSet, actor: str, *, reason: str) -> None:
        student = self._student(tools)
        for tool in tools.config:
            current = tools.tool(tool.tool_id)
            if current is None or current.state == "revoked":
                continue
            self._provisioners[tool.kind].revoke(student, tool, current)
            tools = self._records.save(tools.with_tool(current.model_copy(update={
                "state": "revoked", "updated_at": iso_now()})), expected_version=tools.version)
        tools = self._records.save(tools.model_copy(update={"state": "revoked", "revoked_at": iso_now()}),
                                   expected_version=tools.version)
        self._audit.record(AuditEntry(entity=f"enrollment#{tools.user_id}#track#{tools.track_id}",
                                      action="tools.revoked", actor=actor,
                                      after={"reason": reason, **_summary(tools)}))

    # ------------------------------------------------------------------ tool accounts
    def on_tool_accounts_changed(self, envelope: Envelope) -> None:
        event = ToolAccountsChanged.model_validate(envelope.data)
        for enrollment in self._enrollments.of_user(event.user_id, kind="track"):
            tools = self._records.get(event.user_id, enrollment.item_id)
            if tools is None or tools.state == "revoked" or enrollment.status == "withdrawn":
                continue
            waiting = [tool for tool in tools.config if tool.kind == "github"
                       and (current := tools.tool(tool.tool_id)) is not None and current.waiting_for is not None]
            if waiting:
                tools = self._provision(tools, waiting)
                self._audit.record(AuditEntry(entity=f"enrollment#{event.user_id}#track#{enrollment.item_id}",
                                              action="tools.invitations_sent", actor=f"event:{envelope.id}",
                                              after=_summary(tools)))


def handlers(settings: ProvisioningSettings) -> dict[str, EnvelopeHandler]:
    """Registered in coursepay.consumers.provisioning.handlers()."""
    from coursepay.settings import load_settings
    from coursepay.tracks.tools.config import ToolProvisioningSettings
    from coursepay.tracks.tools.registry import provisioners

    tool_settings = load_settings(ToolProvisioningSettings)
    provisioning = TrackProvisioning(
        records=ToolSetRepository(settings.enrollments_table),
        enrollments=EnrollmentsRepository(settings.enrollments_table),
        accounts=ToolAccountsRepository(tool_settings.accounts_table),
        vault=CredentialVault(tool_settings.tool_credentials_key_id),
        provisioners=provisioners(tool_settings), audit=AuditTrail(settings.audit_table))
    return {TRACK_ENROLLED: provisioning.on_enrolled, TRACK_WITHDRAWN: provisioning.on_withdrawn,
            TOOL_ACCOUNTS_CHANGED: provisioning.on_tool_accounts_changed}
