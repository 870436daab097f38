"""Settings of the booking payments function (students' saved cards; paying a confirmed booking)."""

from __future__ import annotations

from coursepay.settings import AuditSettings, StripeSettings


class BookingPaymentsSettings(AuditSettings, StripeSettings):
    accounts_table: str  # the user -> Stripe Customer mapping and the profile a new Customer is named from
