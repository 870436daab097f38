"""Tool provisioning for track students (the provisioning consumer's handlers).

There are no real Superset/Jupyter/code-server instances behind this: the tools of a track are data (the
catalogue's ``url_template``s), completed per student with a workspace name derived from the user and the track,
and the resulting tool set is recorded in the enrollments table (``sk=tools#track#<id>``) where ``GET /me/tracks``
shows it. Withdrawal marks the set revoked. Both are idempotent (the consumer also runs each event once).
"""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING

from coursepay.events.envelope import Envelope
from coursepay.events.handlers import EnvelopeHandler
from coursepay.storage.audit import AuditEntry, AuditTrail
from coursepay.tracks.events import TRACK_ENROLLED, TRACK_WITHDRAWN, TrackEnrolled, TrackWithdrawn
from coursepay.tracks.progress import ProgressRepository, ProvisionedTool, ToolSet

if TYPE_CHECKING:
    from coursepay.settings import ProvisioningSettings


def workspace_for(user_id: str, track_id: str) -> str:
    """Stable, URL-safe and not the raw user id: ``<track>-<12 hex of sha256(user#track)>``."""
    return f"{track_id.lower()}-{hashlib.sha256(f'{user_id}#{track_id}'.encode()).hexdigest()[:12]}"


class TrackProvisioning:
    def __init__(self, progress: ProgressRepository, audit: AuditTrail) -> None:
        self._progress = progress
        self._audit = audit

    def on_enrolled(self, envelope: Envelope) -> None:
        event = TrackEnrolled.model_validate(envelope.data)
        workspace = workspace_for(event.user_id, event.track_id)
        tools = ToolSet(user_id=event.user_id, track_id=event.track_id, workspace=workspace, tools=[
            ProvisionedTool(tool_id=tool.tool_id, name=tool.name, url=tool.url_template.format(workspace=workspace))
            for tool in event.tools])
        self._progress.save_tools(tools)
        self._audit.record(AuditEntry(entity=f"enrollment#{event.user_id}#track#{event.track_id}",
                                      action="tools.provisioned", actor=f"event:{envelope.id}",
                                      after=tools.model_dump(mode="json")))

    def on_withdrawn(self, envelope: Envelope) -> None:
        event = TrackWithdrawn.model_validate(envelope.data)
        if self._progress.revoke_tools(event.user_id, event.track_id):
            self._audit.record(AuditEntry(entity=f"enrollment#{event.user_id}#track#{event.track_id}",
                                          action="tools.revoked", actor=f"event:{envelope.id}",
                                          after={"reason": event.reason, "payment_id": event.payment_id}))


def handlers(settings: ProvisioningSettings) -> dict[str, EnvelopeHandler]:
    """Registered in coursepay.consumers.provisioning.handlers()."""
    provisioning = TrackProvisioning(ProgressRepository(settings.enrollments_table), AuditTrail(settings.audit_table))
    return {TRACK_ENROLLED: provisioning.on_enrolled, TRACK_WITHDRAWN: provisioning.on_withdrawn}
