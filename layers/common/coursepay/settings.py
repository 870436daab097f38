"""Typed settings per function, read from the environment template.yaml gives it.

Each handler calls ``load_settings(TheSettings)`` at its first invocation (the container's cold start);
a missing or malformed variable fails that invocation loudly instead of surfacing later as a KeyError.
"""

from __future__ import annotations

import os
from functools import cache

from pydantic import BaseModel, ConfigDict, Field, field_validator


class FunctionSettings(BaseModel):
    """Base: field names are the lower-case form of the environment variable names."""

    model_config = ConfigDict(frozen=True, extra="ignore")


class AuditSettings(FunctionSettings):
    audit_table: str


class StripeSettings(FunctionSettings):
    stripe_api_key_secret_id: str
    stripe_api_base: str = "https://api.stripe.com"


class AccountsSettings(AuditSettings):
    accounts_table: str
    user_pool_id: str
    user_pool_client_id: str


class StripeEventRelaySettings(FunctionSettings):
    """What the store-once relay of Stripe events needs (coursepay.webhooks.relay)."""

    stripe_events_table: str


class StripeEventPublicationSettings(StripeEventRelaySettings):
    """What publishing stored Stripe events needs (coursepay.webhooks.publication)."""

    event_bus_name: str


class WebhookSettings(StripeEventRelaySettings):
    stripe_webhook_secret_id: str
    stripe_connect_webhook_secret_id: str
    signature_tolerance_seconds: int = 300


class ReconciliationSettings(StripeEventPublicationSettings, StripeSettings):
    """The reconciliation of Stripe events (coursepay.reconciliation): each run lists events created since
    its checkpoint minus ``overlap`` (Stripe's list is eventually consistent: a late event is not skipped);
    a first run looks back ``first_run_lookback``; stored events RECEIVED longer than ``stuck_after`` are
    published again."""

    reconciliation_overlap_seconds: int = Field(default=600, ge=0)
    reconciliation_first_run_lookback_seconds: int = Field(default=24 * 3600, gt=0)
    reconciliation_stuck_after_seconds: int = Field(default=300, ge=0)


class ConsumerSettings(FunctionSettings):
    idempotency_table: str


class ProvisioningSettings(ConsumerSettings, AuditSettings):
    enrollments_table: str


class NotificationsSettings(ConsumerSettings):
    accounts_table: str
    email_sender: str


class FulfilmentSettings(ConsumerSettings, AuditSettings, StripeSettings):
    accounts_table: str
    bookings_table: str  # teachers' payout records (account.updated), bookings' payments, transfers, refunds
    courses_table: str
    payments_table: str
    enrollments_table: str
    event_bus_name: str
    user_pool_id: str
    # the booking cancellation refund policy (docs/engineering.md, "Booking cancellation refunds")
    booking_full_refund_hours: int = Field(default=24, ge=0)
    booking_late_refund_percent: int = Field(default=50, ge=0, le=100)




class CoursesSettings(AuditSettings, StripeSettings):
    courses_table: str


class CheckoutSettings(AuditSettings, StripeSettings):
    accounts_table: str
    courses_table: str
    payments_table: str
    enrollments_table: str
    idempotency_table: str
    event_bus_name: str  # the success page's fulfilment publishes the money events
    allowed_redirect_origins: tuple[str, ...] = Field(default=())

    @field_validator("allowed_redirect_origins", mode="before")
    @classmethod
    def _split_origins(cls, value: object) -> object:
        if isinstance(value, str):
            return tuple(origin.strip().rstrip("/") for origin in value.split(",") if origin.strip())
        return value


@cache
def load_settings[S: FunctionSettings](settings_type: type[S]) -> S:
    """Validate and cache the settings of this process (clear with ``load_settings.cache_clear()``)."""
    environment = {key.lower(): value for key, value in os.environ.items()}
    return settings_type.model_validate(environment)
