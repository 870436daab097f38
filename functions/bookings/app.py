"""Tutoring API, teachers' side: payout onboarding (Stripe Connect), gig management, public browsing.

Public: GET /gigs, GET /gigs/{gigId}, GET /teachers/{teacherId}. Teachers (admins for any gig):
POST/GET /teacher/gigs, GET/PATCH /teacher/gigs/{gigId}, POST /teacher/gigs/{gigId}/publish|pause|archive,
POST /teacher/payouts/onboarding, GET /teacher/payouts, POST /teacher/payouts/login-link.

Bookings (signed in; coursepay.bookings.lifecycle decides who may act): POST /bookings/quote, POST /bookings,
GET /bookings, GET /bookings/{bookingId}, POST /bookings/{bookingId}/confirm|decline|cancel|complete|report-problem.
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
from coursepay.bookings.booking_repository import BookingsRepository
from coursepay.bookings.booking_requests import (
    BookingListQuery,
    BookingRequest,
    ProblemReport,
    QuoteRequest,
    ReasonRequest,
)
from coursepay.bookings.booking_views import BookingView
from coursepay.bookings.bookings import BookingPage, view_for
from coursepay.bookings.lifecycle import BookingService
from coursepay.bookings.models import (
    DashboardLink,
    Gig,
    GigPage,
    GigView,
    OnboardingLink,
    PayoutAccount,
    PayoutStatusView,
    TeacherProfileView,
)
from coursepay.bookings.paid_cancellation import PaidCancellations
from coursepay.bookings.payouts import TeacherPayouts
from coursepay.bookings.payouts_repository import PayoutAccountsRepository
from coursepay.bookings.quote import Quote
from coursepay.bookings.recorder import BookingRecorder
from coursepay.bookings.repository import GigsRepository
from coursepay.bookings.requests import (
    CreateGigRequest,
    GigQuery,
    OnboardingRequest,
    TeacherGigsQuery,
    UpdateGigRequest,
)
from coursepay.bookings.rules import BookingRules
from coursepay.bookings.service import GigService, public_view
from coursepay.bookings.settings import BookingsSettings
from coursepay.events.publisher import EventPublisher
from coursepay.identity import TEACHERS, Principal
from coursepay.observability import logger, metrics, tracer
from coursepay.settings import load_settings
from coursepay.storage.audit import AuditTrail
from coursepay.stripe_gateway.client import stripe_provider
from coursepay.views import Page

app = make_resolver()


@cache
def gigs() -> GigService:
    settings = load_settings(BookingsSettings)
    return GigService(GigsRepository(settings.bookings_table), PayoutAccountsRepository(settings.bookings_table),
                      AuditTrail(settings.audit_table))


@cache
def payouts() -> TeacherPayouts:
    settings = load_settings(BookingsSettings)
    return TeacherPayouts(PayoutAccountsRepository(settings.bookings_table), stripe_provider(settings),
                          AuditTrail(settings.audit_table), settings.allowed_redirect_origins)


@cache
def bookings() -> BookingService:
    settings = load_settings(BookingsSettings)
    recorder = BookingRecorder(AuditTrail(settings.audit_table), EventPublisher(settings.event_bus_name).publish)
    repository = BookingsRepository(settings.bookings_table)
    return BookingService(repository, GigsRepository(settings.bookings_table), recorder,
                          BookingRules.from_settings(settings),
                          paid_cancellation=PaidCancellations(repository, recorder))  # refunded by the policy


def _page(page: GigPage) -> Page[GigView]:
    return Page[GigView](items=[public_view(gig) for gig in page.items], next_cursor=page.next_cursor)


def _teacher() -> Principal:
    principal = require_principal(app.current_event.raw_event)
    principal.require_any_group(TEACHERS)
    return principal


# ---------------------------------------------------------------------- public
@app.get("/gigs")
@responds(Page[GigView])
def list_gigs() -> Page[GigView]:
    query = parse_model(GigQuery, app.current_event.query_string_parameters or {})
    return _page(gigs().browse(query))


@app.get("/gigs/<gig_id>")
@responds(GigView)
def get_gig(gig_id: str) -> GigView:
    return public_view(gigs().get_active(gig_id))


@app.get("/teachers/<teacher_id>")
@responds(TeacherProfileView)
def teacher_profile(teacher_id: str) -> TeacherProfileView:
    profile = gigs().profile(teacher_id)
    return TeacherProfileView(teacher_id=profile.teacher_id, gigs=[public_view(gig) for gig in profile.gigs])


# ------------------------------------------------------------- a teacher's gigs (with the version a PATCH names)
@app.post("/teacher/gigs")
@responds(Gig, HTTPStatus.CREATED)
def create_gig() -> Gig:
    principal = require_principal(app.current_event.raw_event)
    request = parse_json_body(CreateGigRequest, app.current_event)
    gig = gigs().create(principal, request, app.current_event.headers.get("idempotency-key"))
    metrics.add_metric(name="GigsCreated", unit="Count", value=1)
    return gig


@app.get("/teacher/gigs")
@responds(GigPage)
def my_gigs() -> GigPage:
    principal = require_principal(app.current_event.raw_event)
    query = parse_model(TeacherGigsQuery, app.current_event.query_string_parameters or {})
    return gigs().teacher_gigs(principal, limit=query.limit, cursor=query.cursor)


@app.get("/teacher/gigs/<gig_id>")
@responds(Gig)
def my_gig(gig_id: str) -> Gig:
    return gigs().get_own(require_principal(app.current_event.raw_event), gig_id)


@app.patch("/teacher/gigs/<gig_id>")
@responds(Gig)
def update_gig(gig_id: str) -> Gig:
    principal = require_principal(app.current_event.raw_event)
    request = parse_json_body(UpdateGigRequest, app.current_event)
    return gigs().update(principal, gig_id, request)


@app.post("/teacher/gigs/<gig_id>/publish")
@responds(Gig)
def publish_gig(gig_id: str) -> Gig:
    return gigs().transition(require_principal(app.current_event.raw_event), gig_id, "publish")


@app.post("/teacher/gigs/<gig_id>/pause")
@responds(Gig)
def pause_gig(gig_id: str) -> Gig:
    return gigs().transition(require_principal(app.current_event.raw_event), gig_id, "pause")


@app.post("/teacher/gigs/<gig_id>/archive")
@responds(Gig)
def archive_gig(gig_id: str) -> Gig:
    return gigs().transition(require_principal(app.current_event.raw_event), gig_id, "archive")


# ---------------------------------------------------------------------- payouts
@app.post("/teacher/payouts/onboarding")
@responds(OnboardingLink, HTTPStatus.CREATED)
def start_onboarding() -> OnboardingLink:
    teacher = _teacher()
    request = parse_json_body(OnboardingRequest, app.current_event)
    return payouts().start_onboarding(teacher, request)


@app.get("/teacher/payouts")
@responds(PayoutStatusView)
def payout_status() -> PayoutAccount:
    return payouts().status(_teacher())  # sent as its view: without state_at


@app.post("/teacher/payouts/login-link")
@responds(DashboardLink, HTTPStatus.CREATED)
def login_link() -> DashboardLink:
    return payouts().login_link(_teacher())


# ---------------------------------------------------------------------- bookings
def _bookings_page(page: BookingPage, viewer: Principal) -> dict[str, Any]:
    return {"items": [view_for(booking, viewer) for booking in page.items], "next_cursor": page.next_cursor}


def _signed_in() -> Principal:
    return require_principal(app.current_event.raw_event)


@app.post("/bookings/quote")
@responds(Quote)
def quote_booking() -> Quote:
    _signed_in()
    return bookings().quote(parse_json_body(QuoteRequest, app.current_event))


@app.post("/bookings")
@responds(BookingView, HTTPStatus.CREATED)
def request_booking() -> dict[str, Any]:
    principal = _signed_in()
    request = parse_json_body(BookingRequest, app.current_event)
    booking = bookings().request(principal, request, app.current_event.headers.get("idempotency-key"))
    metrics.add_metric(name="BookingsRequested", unit="Count", value=1)
    return view_for(booking, principal)


@app.get("/bookings")
@responds(Page[BookingView])
def list_bookings() -> dict[str, Any]:
    query = parse_model(BookingListQuery, app.current_event.query_string_parameters or {})
    viewer = _signed_in()
    return _bookings_page(bookings().list(viewer, query), viewer)


@app.get("/bookings/<booking_id>")
@responds(BookingView)
def get_booking(booking_id: str) -> dict[str, Any]:
    viewer = _signed_in()
    return view_for(bookings().get(viewer, booking_id), viewer)


@app.post("/bookings/<booking_id>/confirm")
@responds(BookingView)
def confirm_booking(booking_id: str) -> dict[str, Any]:
    viewer = _signed_in()
    return view_for(bookings().confirm(viewer, booking_id), viewer)


@app.post("/bookings/<booking_id>/decline")
@responds(BookingView)
def decline_booking(booking_id: str) -> dict[str, Any]:
    request = parse_json_body(ReasonRequest, app.current_event)
    viewer = _signed_in()
    return view_for(bookings().decline(viewer, booking_id, request.reason), viewer)


@app.post("/bookings/<booking_id>/cancel")
@responds(BookingView)
def cancel_booking(booking_id: str) -> dict[str, Any]:
    request = parse_json_body(ReasonRequest, app.current_event)
    viewer = _signed_in()
    return view_for(bookings().cancel(viewer, booking_id, request.reason), viewer)


@app.post("/bookings/<booking_id>/complete")
@responds(BookingView)
def complete_booking(booking_id: str) -> dict[str, Any]:
    viewer = _signed_in()
    return view_for(bookings().complete(viewer, booking_id), viewer)


@app.post("/bookings/<booking_id>/report-problem")
@responds(BookingView)
def report_problem(booking_id: str) -> dict[str, Any]:
    report = parse_json_body(ProblemReport, app.current_event)
    viewer = _signed_in()
    return view_for(bookings().report_problem(viewer, booking_id, report), viewer)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
@metrics.log_metrics
@tracer.capture_lambda_handler
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
