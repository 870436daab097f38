"""Tutoring API, students' payments: saved cards (the caller's own only).

POST   /me/cards/setup              a SetupIntent for the caller's Stripe Customer (confirmed by the frontend)
GET    /me/cards                    the saved cards: brand, last 4, expiry, default
POST   /me/cards/{pmId}/default     make a saved card the default
DELETE /me/cards/{pmId}             remove a saved card
"""

from __future__ import annotations

from functools import cache
from http import HTTPStatus
from typing import Any

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from coursepay.accounts.repository import AccountsRepository
from coursepay.api.principal import require_principal
from coursepay.api.resolver import make_resolver
from coursepay.api.responses import json_response
from coursepay.billing.cards import SavedCards
from coursepay.billing.customers import CustomerDirectory
from coursepay.bookings.payment_settings import BookingPaymentsSettings
from coursepay.errors import NotFound
from coursepay.identity import Principal
from coursepay.observability import logger, metrics, tracer
from coursepay.settings import load_settings
from coursepay.storage.audit import AuditTrail
from coursepay.stripe_gateway.client import publishable_key, stripe_provider

app = make_resolver()


@cache
def cards() -> SavedCards:
    settings = load_settings(BookingPaymentsSettings)
    accounts = AccountsRepository(settings.accounts_table)
    stripe = stripe_provider(settings)

    def contact_of(principal: Principal) -> tuple[str, str | None]:
        profile = accounts.get_profile(principal.user_id)
        email = principal.email or (profile.email if profile else None)
        if not email:
            raise NotFound("no profile for this user; sign in again")
        return email, profile.name if profile else None

    return SavedCards(CustomerDirectory(settings.accounts_table, stripe), stripe,
                      lambda: publishable_key(settings.stripe_api_key_secret_id), AuditTrail(settings.audit_table),
                      contact_of)


def _caller() -> Principal:
    return require_principal(app.current_event.raw_event)


@app.post("/me/cards/setup")
def start_card_setup() -> Response[str]:
    """Start saving a card: a SetupIntent (off-session use) whose client secret the frontend confirms."""
    setup = cards().setup(_caller())
    metrics.add_metric(name="CardSetupsStarted", unit="Count", value=1)
    return json_response(HTTPStatus.CREATED, setup)


@app.get("/me/cards")
def my_cards() -> dict[str, Any]:
    """The caller's saved cards: brand, last 4, expiry, default."""
    return {"items": [card.model_dump() for card in cards().list(_caller())], "next_cursor": None}


@app.post("/me/cards/<pm_id>/default")
def make_default_card(pm_id: str) -> dict[str, Any]:
    """Make one of the caller's saved cards the default (another's card is a 404)."""
    return cards().make_default(_caller(), pm_id).model_dump()


@app.delete("/me/cards/<pm_id>")
def remove_card(pm_id: str) -> Response[str]:
    """Remove one of the caller's saved cards (another's card is a 404)."""
    cards().remove(_caller(), pm_id)
    return Response(HTTPStatus.NO_CONTENT, content_types.APPLICATION_JSON, "")


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
@metrics.log_metrics
@tracer.capture_lambda_handler
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
