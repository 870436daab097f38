"""Courses API: the public catalogue and teachers' course management.

Public (no token): GET /courses (?teacher_id=&limit=&cursor=), GET /courses/{courseId}.
Teachers and admins: POST /courses (Idempotency-Key header recommended), PATCH /courses/{courseId},
DELETE /courses/{courseId}, GET /teacher/courses, GET /teacher/courses/{courseId} (any status, price history).
"""

from __future__ import annotations

from functools import cache
from http import HTTPStatus
from typing import Any

from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from coursepay.api.principal import require_principal
from coursepay.api.request_parsing import parse_json_body, parse_model
from coursepay.api.resolver import make_resolver
from coursepay.api.responses import responds
from coursepay.courses.billing import CourseCatalogueBilling
from coursepay.courses.models import CatalogueQuery, CreateCourseRequest, UpdateCourseRequest
from coursepay.courses.repository import CoursesRepository
from coursepay.courses.service import CourseService
from coursepay.courses.settings import CourseManagementSettings
from coursepay.courses.views import CourseManagementView, CourseView
from coursepay.observability import logger, metrics, tracer
from coursepay.settings import load_settings
from coursepay.storage.audit import AuditTrail
from coursepay.stripe_gateway.client import stripe_provider
from coursepay.subscriptions.repository import SubscriptionsRepository
from coursepay.subscriptions.service import CourseSubscribersAdmin
from coursepay.views import Page, PageQuery

app = make_resolver()


@cache
def service() -> CourseService:
    settings = load_settings(CourseManagementSettings)
    stripe = stripe_provider(settings)
    audit = AuditTrail(settings.audit_table)
    return CourseService(
        CoursesRepository(settings.courses_table),
        CourseCatalogueBilling(stripe),
        audit,
        CourseSubscribersAdmin(SubscriptionsRepository(settings.payments_table), audit, stripe),
    )


@app.get("/courses")
@responds(Page[CourseView])
def catalogue() -> dict[str, Any]:
    return service().catalogue(parse_model(CatalogueQuery, app.current_event.query_string_parameters or {}))


@app.get("/courses/<course_id>")
@responds(CourseView)
def get_course(course_id: str) -> dict[str, Any]:
    return service().get(course_id, None)


@app.post("/courses")
@responds(CourseView, HTTPStatus.CREATED)
def create_course() -> dict[str, Any]:
    principal = require_principal(app.current_event.raw_event)
    request = parse_json_body(CreateCourseRequest, app.current_event)
    course = service().create(principal, request, app.current_event.headers.get("idempotency-key"))
    metrics.add_metric(name="CoursesCreated", unit="Count", value=1)
    return course.public_view()


@app.patch("/courses/<course_id>")
@responds(CourseView)
def update_course(course_id: str) -> dict[str, Any]:
    principal = require_principal(app.current_event.raw_event)
    request = parse_json_body(UpdateCourseRequest, app.current_event)
    return service().update(principal, course_id, request).public_view()


@app.delete("/courses/<course_id>")
@responds(CourseView)
def deactivate_course(course_id: str) -> dict[str, Any]:
    principal = require_principal(app.current_event.raw_event)
    return service().deactivate(principal, course_id).public_view()


@app.get("/teacher/courses")
@responds(Page[CourseView])
def teacher_courses() -> dict[str, Any]:
    principal = require_principal(app.current_event.raw_event)
    query = parse_model(PageQuery, app.current_event.query_string_parameters or {})
    return service().teacher_courses(principal, query)


@app.get("/teacher/courses/<course_id>")
@responds(CourseManagementView)
def teacher_course(course_id: str) -> dict[str, Any]:
    return service().teacher_course(require_principal(app.current_event.raw_event), course_id)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
@metrics.log_metrics
@tracer.capture_lambda_handler
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
