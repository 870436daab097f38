"""Learning API (a track student's progress and tools):

POST /me/tracks/{trackId}/projects/{projectId}/submit                  the student: an unlocked project submitted
POST /tracks/{trackId}/students/{userId}/projects/{projectId}/complete  teachers, admins: completed, next unlocked
GET  /me/tracks/{trackId}/tools                                       the student: their tools, with credentials
GET  /me/tool-accounts, PUT /me/tool-accounts                         the student's GitHub username
"""

from __future__ import annotations

from functools import cache
from typing import Any

from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel

from coursepay.api.principal import require_principal
from coursepay.api.request_parsing import parse_json_body
from coursepay.api.resolver import make_resolver
from coursepay.api.responses import responds
from coursepay.billing.enrollments import EnrollmentsRepository
from coursepay.events.publisher import EventPublisher
from coursepay.identity import Principal
from coursepay.observability import logger, metrics, tracer
from coursepay.settings import load_settings
from coursepay.storage.audit import AuditTrail
from coursepay.tracks.catalogue import TracksRepository
from coursepay.tracks.learning import ProgressService, ToolAccountsService, ToolsPageService
from coursepay.tracks.learning_models import CompleteProjectBody, ProjectOutcome, SubmitProjectBody, ToolsPage
from coursepay.tracks.progress import ProgressRepository
from coursepay.tracks.settings import LearningSettings
from coursepay.tracks.tools.accounts import ToolAccounts, ToolAccountsRepository
from coursepay.tracks.tools.records import ToolSetRepository
from coursepay.tracks.tools.vault import CredentialVault

app = make_resolver()


class Services(BaseModel, arbitrary_types_allowed=True):
    progress: ProgressService
    tools: ToolsPageService
    accounts: ToolAccountsService


@cache
def service() -> Services:
    settings = load_settings(LearningSettings)
    enrollments = EnrollmentsRepository(settings.enrollments_table)
    audit = AuditTrail(settings.audit_table)
    publish = EventPublisher(settings.event_bus_name).publish
    return Services(
        progress=ProgressService(tracks=TracksRepository(settings.courses_table), enrollments=enrollments,
                                 progress=ProgressRepository(settings.enrollments_table), audit=audit,
                                 publish=publish),
        tools=ToolsPageService(enrollments=enrollments, records=ToolSetRepository(settings.enrollments_table),
                               vault=CredentialVault(settings.tool_credentials_key_id)),
        accounts=ToolAccountsService(ToolAccountsRepository(settings.accounts_table), audit, publish),
    )


def _principal() -> Principal:
    return require_principal(app.current_event.raw_event)


@app.post("/me/tracks/<track_id>/projects/<project_id>/submit")
@responds(ProjectOutcome)
def submit_project(track_id: str, project_id: str) -> ProjectOutcome:
    student = _principal()
    body = parse_json_body(SubmitProjectBody, app.current_event)
    return service().progress.submit(student, track_id, project_id, body)


@app.post("/tracks/<track_id>/students/<user_id>/projects/<project_id>/complete")
@responds(ProjectOutcome)
def complete_project(track_id: str, user_id: str, project_id: str) -> ProjectOutcome:
    reviewer = _principal()
    body = parse_json_body(CompleteProjectBody, app.current_event)
    outcome = service().progress.complete(reviewer, track_id, user_id, project_id, body)
    metrics.add_metric(name="TrackProjectsCompleted", unit="Count", value=1)
    return outcome


@app.get("/me/tracks/<track_id>/tools")
@responds(ToolsPage, headers={"Cache-Control": "no-store"})  # credentials: never kept by a browser or a proxy cache
def my_tools(track_id: str) -> ToolsPage:
    return service().tools.page(_principal(), track_id)


@app.get("/me/tool-accounts")
@responds(ToolAccounts)
def my_tool_accounts() -> ToolAccounts:
    return service().accounts.get(_principal())


@app.put("/me/tool-accounts")
@responds(ToolAccounts)
def set_tool_accounts() -> ToolAccounts:
    student = _principal()
    body = parse_json_body(ToolAccounts, app.current_event)
    return service().accounts.set(student, body)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
@metrics.log_metrics
@tracer.capture_lambda_handler
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
