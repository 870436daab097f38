"""Settings of the notifications function as the billing notices need them."""

from __future__ import annotations

from pydantic import field_validator

from coursepay.accounts.models import normalise_email
from coursepay.settings import NotificationsSettings


class BillingNotificationsSettings(NotificationsSettings):
    """``ADMIN_NOTIFICATION_EMAIL`` (template parameter ``AdminNotificationEmail``): where dispute notices go."""

    admin_notification_email: str

    _admin_email = field_validator("admin_notification_email")(normalise_email)
