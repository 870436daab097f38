"""Settings of the booking payments function (students' saved cards; paying a confirmed booking)."""

from __future__ import annotations

from pydantic import Field, field_validator

from coursepay.settings import AuditSettings, CheckoutSettings, StripeSettings


class BookingPaymentsSettings(AuditSettings, StripeSettings):
    accounts_table: str  # the user -> Stripe Customer mapping and the profile a new Customer is named from
    bookings_table: str  # the booking paid (read: its amount, state and deadline)
    payments_table: str  # the payment records and open-attempt pointers of the billing core
    allowed_redirect_origins: tuple[str, ...] = Field(default=())  # hosted page and 3-D Secure return URLs

    _origins = field_validator("allowed_redirect_origins", mode="before")(
        CheckoutSettings._split_origins.__func__)  # type: ignore[attr-defined]
