"""Settings of the payments function and of the track handlers that run in the shared consumers."""

from __future__ import annotations

from pydantic import Field, field_validator

from coursepay.accounts.settings import PAGE_URL, TermsSettings
from coursepay.settings import AuditSettings, CheckoutSettings, NotificationsSettings, StripeSettings


class PaymentsSettings(AuditSettings, StripeSettings, TermsSettings):
    """PaymentsFunction: the track catalogue, track purchases, payments, refund requests, enrollments view."""

    accounts_table: str
    courses_table: str
    payments_table: str
    enrollments_table: str
    event_bus_name: str  # refund decisions are money events
    stripe_events_table: str  # the store-once relay of a sign-up's recovered Stripe events
    allowed_redirect_origins: tuple[str, ...] = Field(default=())

    _origins = field_validator("allowed_redirect_origins", mode="before")(
        CheckoutSettings._split_origins.__func__)  # type: ignore[attr-defined]


class TrackNotificationsSettings(NotificationsSettings):
    """The notifications function, as the track welcome e-mail needs it (it issues the set-password link)."""

    user_pool_id: str
    set_password_page_url: str = Field(pattern=PAGE_URL)


class LearningSettings(AuditSettings):
    """LearningFunction: project progress, the student's tools page (decrypts their tool password), tool accounts."""

    accounts_table: str
    courses_table: str
    enrollments_table: str
    event_bus_name: str  # track.project.unlocked, track.tool_accounts.changed
    tool_credentials_key_id: str
