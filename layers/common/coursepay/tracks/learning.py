"""The learning side of a track enrollment: project progress (a student submits, a teacher or admin completes,
the next project unlocks with a ``track.project.unlocked`` event) and the student's own tools page, the one place
their tool credentials are shown."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from urllib.parse import quote

from coursepay.billing.enrollments import Enrollment, EnrollmentsRepository
from coursepay.errors import ConditionFailed, Conflict, NotFound
from coursepay.events.envelope import Envelope
from coursepay.identity import ADMINS, TEACHERS, Principal
from coursepay.storage.audit import AuditEntry, AuditTrail
from coursepay.tracks.catalogue import TracksRepository
from coursepay.tracks.events import (
    ProjectUnlocked,
    ToolAccountsChanged,
    project_unlocked_envelope,
    tool_accounts_envelope,
)
from coursepay.tracks.learning_models import (
    CompleteProjectBody,
    ProjectOutcome,
    SubmitProjectBody,
    ToolCredentials,
    ToolsPage,
    ToolWithCredentials,
)
from coursepay.tracks.progress import ProgressRepository, TrackProgress, initial_progress
from coursepay.tracks.tools.accounts import ToolAccounts, ToolAccountsRepository
from coursepay.tracks.tools.interface import ProvisionedTool
from coursepay.tracks.tools.records import ToolSet, ToolSetRepository
from coursepay.tracks.tools.vault import CredentialVault


class ProgressService:
    def __init__(self, *, tracks: TracksRepository, enrollments: EnrollmentsRepository, progress: ProgressRepository,
                 audit: AuditTrail, publish: Callable[[Sequence[Envelope]], None]) -> None:
        self._tracks = tracks
        self._enrollments = enrollments
        self._progress = progress
        self._audit = audit
        self._publish = publish

    def _enrollment(self, user_id: str, track_id: str, *, field: str) -> Enrollment:
        enrollment = self._enrollments.get(user_id, "track", track_id)
        if enrollment is None:
            raise NotFound(f"no enrollment in track {track_id}", field=field)
        if not enrollment.has_access():
            raise Conflict(f"the enrollment in track {track_id} is {enrollment.status}", field="trackId",
                           code="enrollment_inactive")
        return enrollment

    def _current(self, user_id: str, track_id: str) -> TrackProgress:
        progress = self._progress.get(user_id, track_id, consistent=True)
        if progress is not None:
            return progress
        track = self._tracks.get(track_id)
        if track is None:
            raise NotFound(f"no track {track_id}", field="trackId")
        self._progress.create(initial_progress(user_id, track))  # fulfilment writes it; this covers a lag
        return self._progress.get(user_id, track_id, consistent=True) or initial_progress(user_id, track)

    def _write(self, progress: TrackProgress) -> TrackProgress:
        try:
            return self._progress.replace(progress)
        except ConditionFailed as error:
            raise Conflict("the progress changed at the same time: read it again and retry",
                           code="progress_changed") from error

    def submit(self, student: Principal, track_id: str, project_id: str, body: SubmitProjectBody) -> ProjectOutcome:
        self._enrollment(student.user_id, track_id, field="trackId")
        before = self._current(student.user_id, track_id)
        after = self._write(before.submitted(project_id, url=body.submission_url, note=body.note))
        project = after.projects[after.index_of(project_id)]
        self._audit.record(AuditEntry(entity=f"enrollment#{student.user_id}#track#{track_id}",
                                      action="progress.project_submitted", actor=f"user:{student.user_id}",
                                      before={"project_id": project_id,
                                              "state": before.projects[before.index_of(project_id)].state},
                                      after=project.model_dump(mode="json")))
        return ProjectOutcome(track_id=track_id, user_id=student.user_id, project=project, projects=after.projects)

    def complete(self, reviewer: Principal, track_id: str, user_id: str, project_id: str,
                 body: CompleteProjectBody) -> ProjectOutcome:
        reviewer.require_any_group(TEACHERS, ADMINS)
        self._enrollment(user_id, track_id, field="userId")
        before = self._current(user_id, track_id)
        project = before.projects[before.index_of(project_id)]
        if project.state == "completed":
            after = before  # a repeated request: nothing changes, the unlock event is published again (same id)
        else:
            after = self._write(before.completed(project_id, by=f"user:{reviewer.user_id}", feedback=body.feedback))
            self._audit.record(AuditEntry(entity=f"enrollment#{user_id}#track#{track_id}",
                                          action="progress.project_completed", actor=f"user:{reviewer.user_id}",
                                          before={"project_id": project_id, "state": project.state},
                                          after=after.projects[after.index_of(project_id)].model_dump(mode="json")))
        following = after.next_after(project_id)
        unlocked = following if following is not None and following.state != "locked" else None
        if unlocked is not None:
            if project.state != "completed":
                self._audit.record(AuditEntry(entity=f"enrollment#{user_id}#track#{track_id}",
                                              action="progress.project_unlocked", actor=f"user:{reviewer.user_id}",
                                              after={"project_id": unlocked.project_id, "after": project_id}))
            track = self._tracks.get(track_id)
            done = after.projects[after.index_of(project_id)]
            self._publish([project_unlocked_envelope(ProjectUnlocked(
                user_id=user_id, track_id=track_id, track_name=track.name if track else track_id,
                completed_project_id=project_id, completed_project_title=done.title,
                project_id=unlocked.project_id, project_title=unlocked.title,
                completed_by=done.completed_by or f"user:{reviewer.user_id}"), correlation_id=None)])
        return ProjectOutcome(track_id=track_id, user_id=user_id, project=after.projects[after.index_of(project_id)],
                              unlocked=unlocked, projects=after.projects)


class ToolsPageService:
    """``GET /me/tracks/{trackId}/tools``: the signed-in student's own tools, with the credentials decrypted for
    them alone (never for a teacher or an admin: nobody else needs a student's password)."""

    def __init__(self, *, enrollments: EnrollmentsRepository, records: ToolSetRepository,
                 vault: CredentialVault) -> None:
        self._enrollments = enrollments
        self._records = records
        self._vault = vault

    def page(self, student: Principal, track_id: str) -> ToolsPage:
        if self._enrollments.get(student.user_id, "track", track_id) is None:
            raise NotFound(f"no enrollment in track {track_id}", field="trackId")
        tools = self._records.get(student.user_id, track_id, consistent=False)
        if tools is None:
            return ToolsPage(track_id=track_id, state="pending")
        password = self._password(tools)
        return ToolsPage(track_id=track_id, state=tools.state, workspace=tools.workspace,
                         tools=[self._shown(tool, password) for tool in tools.tools])

    def _password(self, tools: ToolSet) -> str | None:
        if tools.state == "revoked" or not tools.credential:
            return None
        return self._vault.open(tools.credential, user_id=tools.user_id, track_id=tools.track_id)

    @staticmethod
    def _shown(tool: ProvisionedTool, password: str | None) -> ToolWithCredentials:
        shown = ToolWithCredentials.model_validate(tool.model_dump())
        if password is None or not shown.uses_password or shown.state != "provisioned" or not shown.username:
            return shown
        dsn = None
        if shown.kind == "postgres":
            d = shown.details
            dsn = (f"postgresql://{quote(shown.username)}:{quote(password)}@{d['host']}:{d['port']}/"
                   f"{quote(d['database'])}?sslmode={d.get('sslmode', 'require')}")
        return shown.model_copy(update={"credentials": ToolCredentials(username=shown.username, password=password,
                                                                         dsn=dsn)})


class ToolAccountsService:
    """``PUT /me/tool-accounts``: the student's accounts on the tools' services; a change publishes
    ``track.tool_accounts.changed`` so that invitations waiting for it go out (provisioning consumer)."""

    def __init__(self, accounts: ToolAccountsRepository, audit: AuditTrail,
                 publish: Callable[[Sequence[Envelope]], None]) -> None:
        self._accounts = accounts
        self._audit = audit
        self._publish = publish

    def get(self, student: Principal) -> ToolAccounts:
        stored = self._accounts.get(student.user_id)
        return ToolAccounts(github_username=stored.github_username if stored else None)

    def set(self, student: Principal, accounts: ToolAccounts) -> ToolAccounts:
        before = self._accounts.get(student.user_id)
        if before is not None and before.github_username == accounts.github_username:
            return accounts
        stored = self._accounts.save(student.user_id, accounts)
        self._audit.record(AuditEntry(entity=f"user#{student.user_id}", action="tool_accounts.changed",
                                      actor=f"user:{student.user_id}",
                                      before={"github_username": before.github_username} if before else None,
                                      after={"github_username": stored.github_username}))
        self._publish([tool_accounts_envelope(ToolAccountsChanged(user_id=student.user_id,
                                                                  github_username=stored.github_username),
                                              stored.updated_at, correlation_id=None)])
        return accounts
