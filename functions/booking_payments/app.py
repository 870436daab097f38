"""Tutoring API, students' payments: saved cards (the caller's own only) and paying a confirmed booking.

POST   /me/cards/setup              a SetupIntent for the caller's Stripe Customer (confirmed by the frontend)
GET    /me/cards                    the saved cards: brand, last 4, expiry, default
POST   /me/cards/{pmId}/default     make a saved card the default
DELETE /me/cards/{pmId}             remove a saved card
POST   /bookings/{bookingId}/pay    pay a confirmed booking: a saved card, or the hosted page
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
from coursepay.billing.cards import CardSetup, SavedCard, SavedCards
from coursepay.billing.core import BillingCore
from coursepay.billing.customers import CustomerDirectory
from coursepay.bookings.booking_payments import BookingPayments, PayRequest
from coursepay.bookings.booking_repository import BookingsRepository
from coursepay.bookings.booking_views import BookingPaymentView
from coursepay.bookings.payment_settings import BookingPaymentsSettings
from coursepay.errors import NotFound
from coursepay.identity import STUDENTS, Principal
from coursepay.observability import logger, metrics, tracer
from coursepay.settings import load_settings
from coursepay.storage.audit import AuditTrail
from coursepay.stripe_gateway.client import publishable_key, stripe_provider
from coursepay.views import Page

app = make_resolver()


class Contacts:
    """The e-mail and name a new Stripe Customer is created with: the token's, else the profile's."""

    def __init__(self, accounts: AccountsRepository) -> None:
        self._accounts = accounts

    def __call__(self, principal: Principal) -> tuple[str, str | None]:
        profile = self._accounts.get_profile(principal.user_id)
        email = principal.email or (profile.email if profile else None)
        if not email:
            raise NotFound("no profile for this user; sign in again")
        return email, profile.name if profile else None


@cache
def cards() -> SavedCards:
    settings = load_settings(BookingPaymentsSettings)
    stripe = stripe_provider(settings)
    return SavedCards(CustomerDirectory(settings.accounts_table, stripe), stripe,
                      lambda: publishable_key(settings.stripe_api_key_secret_id), AuditTrail(settings.audit_table),
                      Contacts(AccountsRepository(settings.accounts_table)))


@cache
def payments() -> BookingPayments:
    settings = load_settings(BookingPaymentsSettings)
    core = BillingCore(payments_table=settings.payments_table, enrollments_table=None,
                       audit_table=settings.audit_table, event_bus_name=None, stripe_client=stripe_provider(settings),
                       allowed_origins=settings.allowed_redirect_origins)
    return BookingPayments(core=core, bookings=BookingsRepository(settings.bookings_table), cards=cards(),
                           customers=CustomerDirectory(settings.accounts_table, core.stripe),
                           contact_of=Contacts(AccountsRepository(settings.accounts_table)),
                           allowed_origins=settings.allowed_redirect_origins)


def _caller() -> Principal:
    return require_principal(app.current_event.raw_event)


@app.post("/me/cards/setup")
@responds(CardSetup, HTTPStatus.CREATED)
def start_card_setup() -> CardSetup:
    """Start saving a card: a SetupIntent (off-session use) whose client secret the frontend confirms."""
    setup = cards().setup(_caller())
    metrics.add_metric(name="CardSetupsStarted", unit="Count", value=1)
    return setup


@app.get("/me/cards")
@responds(Page[SavedCard])
def my_cards() -> Page[SavedCard]:
    """The caller's saved cards: brand, last 4, expiry, default."""
    return Page[SavedCard](items=cards().list(_caller()))


@app.post("/me/cards/<pm_id>/default")
@responds(SavedCard)
def make_default_card(pm_id: str) -> SavedCard:
    """Make one of the caller's saved cards the default (another's card is a 404)."""
    return cards().make_default(_caller(), pm_id)


@app.delete("/me/cards/<pm_id>")
@responds(None, HTTPStatus.NO_CONTENT)
def remove_card(pm_id: str) -> None:
    """Remove one of the caller's saved cards (another's card is a 404)."""
    cards().remove(_caller(), pm_id)


@app.post("/bookings/<booking_id>/pay")
@responds(BookingPaymentView, HTTPStatus.CREATED)
def pay_booking(booking_id: str) -> dict[str, Any]:
    """Pay a confirmed booking before its deadline: a saved card (the same PaymentIntent every click; 3-D Secure
    answers requires_action with next_action) or the hosted page (checkout_url)."""
    principal = _caller()
    principal.require_any_group(STUDENTS)
    request = parse_json_body(PayRequest, app.current_event)
    view = payments().pay(principal, booking_id, request)
    metrics.add_metric(name="BookingPayments", unit="Count", value=1)
    return view


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
@metrics.log_metrics
@tracer.capture_lambda_handler
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
