"""Checkout API (course marketplace): buying a course, the success page's confirmation, subscriptions, access.

POST /courses/{courseId}/checkout {pricing, success_url, cancel_url}; POST /checkout/sessions/{sessionId}/fulfil;
GET /subscriptions; POST /subscriptions/{subscriptionId}/cancel {at_period_end}; GET /courses/{courseId}/access;
GET /me/courses. Every route needs a token and only ever shows the caller's own records.
"""

from __future__ import annotations

from functools import cache
from http import HTTPStatus
from typing import Any

from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from coursepay.accounts.repository import AccountsRepository
from coursepay.api.principal import require_principal
from coursepay.api.request_parsing import parse_json_body
from coursepay.api.resolver import make_resolver
from coursepay.api.responses import responds
from coursepay.billing.core import BillingCore
from coursepay.billing.customers import CustomerDirectory
from coursepay.courses.repository import CoursesRepository
from coursepay.identity import Principal
from coursepay.observability import logger, metrics, tracer
from coursepay.settings import CheckoutSettings, load_settings
from coursepay.storage.idempotency import IdempotencyStore
from coursepay.stripe_gateway.client import stripe_provider
from coursepay.subscriptions.access_policy import CourseAccessPolicy
from coursepay.subscriptions.fulfilment import CourseFulfilment
from coursepay.subscriptions.models import CancelRequest, CheckoutRequest
from coursepay.subscriptions.repository import SubscriptionsRepository
from coursepay.subscriptions.service import CourseCheckout
from coursepay.subscriptions.views import (
    CheckoutStarted,
    CourseAccess,
    FulfilmentView,
    MyCourse,
    SubscriptionView,
)
from coursepay.views import Page

app = make_resolver()


@cache
def service() -> CourseCheckout:
    settings = load_settings(CheckoutSettings)
    core = BillingCore(payments_table=settings.payments_table, enrollments_table=settings.enrollments_table,
                       audit_table=settings.audit_table, event_bus_name=settings.event_bus_name,
                       stripe_client=stripe_provider(settings), allowed_origins=settings.allowed_redirect_origins)
    courses = CoursesRepository(settings.courses_table)
    subscriptions = SubscriptionsRepository(settings.payments_table)
    fulfilment = CourseFulfilment(core=core, courses=courses, subscriptions=subscriptions,
                                  claims=IdempotencyStore(settings.idempotency_table))
    # the success page's fulfilment applies refunds and disputes that waited for this payment (parked events)
    core.money_events({"course": CourseAccessPolicy(core.standard_policy(), fulfilment)})
    return CourseCheckout(core=core, courses=courses, customers=CustomerDirectory(settings.accounts_table, core.stripe),
                          accounts=AccountsRepository(settings.accounts_table), subscriptions=subscriptions,
                          fulfilment=fulfilment)


def _caller() -> Principal:
    return require_principal(app.current_event.raw_event)


@app.post("/courses/<course_id>/checkout")
@responds(CheckoutStarted, HTTPStatus.CREATED)
def start_checkout(course_id: str) -> dict[str, Any]:
    principal = _caller()
    request = parse_json_body(CheckoutRequest, app.current_event)
    result = service().start(principal, course_id, request)
    metrics.add_metric(name=f"CourseCheckouts_{request.pricing}", unit="Count", value=1)
    # 201 like every checkout start (tracks too): a session exists for the buyer, new or the open one again
    return result


@app.post("/checkout/sessions/<session_id>/fulfil")
@responds(FulfilmentView)
def fulfil(session_id: str) -> dict[str, Any]:
    return service().fulfil(_caller(), session_id)


@app.get("/subscriptions")
@responds(Page[SubscriptionView])
def my_subscriptions() -> dict[str, Any]:
    return service().subscriptions(_caller())


@app.post("/subscriptions/<subscription_id>/cancel")
@responds(SubscriptionView)
def cancel_subscription(subscription_id: str) -> dict[str, Any]:
    principal = _caller()
    request = parse_json_body(CancelRequest, app.current_event)
    return service().cancel(principal, subscription_id, at_period_end=request.at_period_end)


@app.get("/courses/<course_id>/access")
@responds(CourseAccess)
def course_access(course_id: str) -> dict[str, Any]:
    return service().has_access(_caller(), course_id)


@app.get("/me/courses")
@responds(Page[MyCourse])
def my_courses() -> dict[str, Any]:
    return service().my_courses(_caller())


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
@metrics.log_metrics
@tracer.capture_lambda_handler
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
