"""Payments API (paid tracks, payments, refund requests):

GET  /tracks, /tracks/{trackId}                      public catalogue
POST /tracks/{trackId}/payment-intents               signed in: PaymentIntent (catalogue price)
POST /tracks/{trackId}/checkout                      signed in: Checkout Session
POST /tracks/{trackId}/signup-checkout               anonymous: payment-first sign-up
GET  /checkout/sessions/{sessionId}/verify           anonymous: 202 processing / 200 ready / 404
GET  /payments, /payments/{paymentId}                the caller's payments / one (owner or admin)
POST /payments/{paymentId}/refund-requests           the payment's owner asks for a refund
GET  /me/refund-requests, /me/tracks                 the caller's refund requests / enrollments with progress
GET  /admin/payments?status=&kind=&user_id=&from=&to=  admins: the payment search (paginated)
GET  /admin/users/{userId}                           admins: a user's payments and enrollments
GET  /admin/summary?from=&to=                        admins: success and refund rates, revenue by product
GET  /admin/refund-requests?status=pending           admins
POST /admin/refund-requests/{requestId}/approve|deny admins
"""

from __future__ import annotations

from functools import cache
from http import HTTPStatus
from typing import Any

from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel

from coursepay.accounts.repository import AccountsRepository
from coursepay.api.principal import require_principal
from coursepay.api.request_parsing import parse_json_body, parse_model
from coursepay.api.resolver import make_resolver
from coursepay.api.responses import Reply, responds
from coursepay.billing.admin_views import AdminPayments, PaymentSearchQuery, PeriodQuery, UserOverview
from coursepay.billing.core import BillingCore
from coursepay.billing.customers import CustomerDirectory
from coursepay.billing.payments import Payment
from coursepay.billing.summary import DailySummary, Summary
from coursepay.observability import logger, metrics, tracer
from coursepay.reconciliation.sessions import CheckoutSessionRecovery
from coursepay.refunds.repository import RefundRequest, RefundRequestsRepository
from coursepay.refunds.service import RefundService
from coursepay.refunds.views import RefundQueueQuery, RefundRequestView
from coursepay.settings import load_settings
from coursepay.stripe_gateway.client import publishable_key, stripe_provider
from coursepay.tracks.catalogue import TracksRepository
from coursepay.tracks.models import (
    ApproveRefundBody,
    CheckoutRequest,
    CheckoutView,
    DenyRefundBody,
    MyTracks,
    PaymentIntentRequest,
    PaymentIntentView,
    PaymentList,
    PaymentView,
    RefundRequestBody,
    SignupCheckoutRequest,
    SignupVerification,
    TrackView,
)
from coursepay.tracks.progress import ProgressRepository
from coursepay.tracks.purchases import TrackPurchases
from coursepay.tracks.service import TrackQueries
from coursepay.tracks.settings import PaymentsSettings
from coursepay.tracks.signups import SignupsRepository
from coursepay.tracks.tools.records import ToolSetRepository
from coursepay.views import Page
from coursepay.webhooks.relay import StripeEventRelay

app = make_resolver()


class Services(BaseModel, arbitrary_types_allowed=True):
    queries: TrackQueries
    purchases: TrackPurchases
    refunds: RefundService
    admin: AdminPayments


@cache
def service() -> Services:
    settings = load_settings(PaymentsSettings)
    core = BillingCore(payments_table=settings.payments_table, enrollments_table=settings.enrollments_table,
                       audit_table=settings.audit_table, event_bus_name=settings.event_bus_name,
                       stripe_client=stripe_provider(settings), allowed_origins=settings.allowed_redirect_origins)
    tracks = TracksRepository(settings.courses_table)
    payments = core.ledger.payments
    return Services(
        queries=TrackQueries(tracks, payments, core.enrollments, ProgressRepository(settings.enrollments_table),
                             ToolSetRepository(settings.enrollments_table)),
        purchases=TrackPurchases(
            core=core, tracks=tracks, customers=CustomerDirectory(settings.accounts_table, core.stripe),
            accounts=AccountsRepository(settings.accounts_table), signups=SignupsRepository(settings.payments_table),
            publishable_key=lambda: publishable_key(settings.stripe_api_key_secret_id),
            terms_version=settings.terms_version,
            recover_session=CheckoutSessionRecovery(
                core.stripe, StripeEventRelay.for_resources(settings.stripe_events_table)).recover_checkout_session),
        refunds=RefundService(payments, RefundRequestsRepository(settings.payments_table), core.audit, core.stripe,
                              core.publish),
        admin=AdminPayments(payments, core.enrollments, DailySummary(settings.payments_table)),
    )



def _principal() -> Any:
    return require_principal(app.current_event.raw_event)


def _refund_page(requests: list[RefundRequest], next_cursor: str | None) -> Page[RefundRequestView]:
    # each stored request as its view: the Stripe attempt counter stays inside
    return Page[RefundRequestView](items=[RefundRequestView.model_validate(r.model_dump(exclude={"attempt"}))
                                          for r in requests], next_cursor=next_cursor)


@app.get("/tracks")
@responds(Page[TrackView])
def list_tracks() -> Page[TrackView]:
    return Page[TrackView](items=service().queries.catalogue())


@app.get("/tracks/<track_id>")
@responds(TrackView)
def get_track(track_id: str) -> TrackView:
    return service().queries.track(track_id)


@app.post("/tracks/<track_id>/payment-intents")
@responds(PaymentIntentView, HTTPStatus.CREATED)
def create_payment_intent(track_id: str) -> PaymentIntentView:
    principal = _principal()
    parse_json_body(PaymentIntentRequest, app.current_event)
    view = service().purchases.create_payment_intent(principal, track_id)
    metrics.add_metric(name="TrackPaymentIntents", unit="Count", value=1)
    return view


@app.post("/tracks/<track_id>/checkout")
@responds(CheckoutView, HTTPStatus.CREATED)
def create_checkout(track_id: str) -> CheckoutView:
    principal = _principal()
    request = parse_json_body(CheckoutRequest, app.current_event)
    return service().purchases.create_checkout(principal, track_id, request)


@app.post("/tracks/<track_id>/signup-checkout")
@responds(CheckoutView, HTTPStatus.CREATED)
def create_signup_checkout(track_id: str) -> CheckoutView:
    request = parse_json_body(SignupCheckoutRequest, app.current_event)
    key = app.current_event.headers.get("idempotency-key")
    view = service().purchases.create_signup_checkout(track_id, request, key)
    metrics.add_metric(name="TrackSignupCheckouts", unit="Count", value=1)
    return view


@app.get("/checkout/sessions/<session_id>/verify")
@responds(SignupVerification, HTTPStatus.OK, HTTPStatus.ACCEPTED)
def verify_signup(session_id: str) -> Reply:
    verification = service().purchases.verify_signup(session_id)
    return Reply(HTTPStatus.OK if verification.status == "ready" else HTTPStatus.ACCEPTED, verification)


@app.get("/payments")
@responds(PaymentList)
def my_payments() -> PaymentList:
    return service().queries.payments_of(_principal())


@app.get("/payments/<payment_id>")
@responds(PaymentView)
def get_payment(payment_id: str) -> PaymentView:
    return service().queries.payment(_principal(), payment_id)


@app.post("/payments/<payment_id>/refund-requests")
@responds(RefundRequestView, HTTPStatus.CREATED)
def request_refund(payment_id: str) -> RefundRequest:
    principal = _principal()
    body = parse_json_body(RefundRequestBody, app.current_event)
    return service().refunds.request(principal, payment_id, body.reason)


@app.get("/me/refund-requests")
@responds(Page[RefundRequestView])
def my_refund_requests() -> Page[RefundRequestView]:
    return _refund_page(service().refunds.of_user(_principal()), None)


@app.get("/me/tracks")
@responds(MyTracks)
def my_tracks() -> MyTracks:
    return service().queries.my_tracks(_principal())


@app.get("/admin/refund-requests")
@responds(Page[RefundRequestView])
def list_refund_requests() -> Page[RefundRequestView]:
    admin = _principal()
    query = parse_model(RefundQueueQuery, app.current_event.query_string_parameters or {})
    requests, next_cursor = service().refunds.list(admin, query)
    return _refund_page(requests, next_cursor)


@app.get("/admin/payments")
@responds(Page[Payment])
def search_payments() -> Page[Payment]:
    admin = _principal()
    query = parse_model(PaymentSearchQuery, app.current_event.query_string_parameters or {})
    payments, next_cursor = service().admin.search(admin, query)
    return Page[Payment](items=payments, next_cursor=next_cursor)


@app.get("/admin/summary")
@responds(Summary)
def money_summary() -> Summary:
    admin = _principal()
    return service().admin.summary(admin, parse_model(PeriodQuery, app.current_event.query_string_parameters or {}))


@app.get("/admin/users/<user_id>")
@responds(UserOverview)
def user_overview(user_id: str) -> dict[str, Any]:
    return service().admin.user_overview(_principal(), user_id)


@app.post("/admin/refund-requests/<request_id>/approve")
@responds(RefundRequestView)
def approve_refund(request_id: str) -> RefundRequest:
    admin = _principal()
    body = parse_json_body(ApproveRefundBody, app.current_event)
    return service().refunds.approve(admin, request_id, body.amount)


@app.post("/admin/refund-requests/<request_id>/deny")
@responds(RefundRequestView)
def deny_refund(request_id: str) -> RefundRequest:
    admin = _principal()
    body = parse_json_body(DenyRefundBody, app.current_event)
    return service().refunds.deny(admin, request_id, body.reason)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
@metrics.log_metrics
@tracer.capture_lambda_handler
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
