"""The notifications consumer's handlers for the billing core's events (source ``coursepay.billing``,
``coursepay.billing.events``): one e-mail per event, the consumer's claim on the event id making it once."""

from __future__ import annotations

from typing import TYPE_CHECKING

from coursepay.accounts.repository import AccountsRepository
from coursepay.billing import events as billing
from coursepay.notifications.dispute_notices import DisputeNotices
from coursepay.notifications.mailer import Mailer
from coursepay.notifications.payment_notices import PaymentNotices
from coursepay.notifications.postbox import Postbox
from coursepay.notifications.recipients import Recipients
from coursepay.notifications.refund_notices import RefundNotices
from coursepay.notifications.settings import BillingNotificationsSettings
from coursepay.settings import load_settings

if TYPE_CHECKING:
    from coursepay.events.handlers import EnvelopeHandler
    from coursepay.settings import NotificationsSettings


def handlers(settings: NotificationsSettings) -> dict[str, EnvelopeHandler]:
    """Registered in coursepay.consumers.notifications.handlers()."""
    admins = load_settings(BillingNotificationsSettings).admin_notification_email
    postbox = Postbox(Recipients(AccountsRepository(settings.accounts_table)), Mailer(settings.email_sender))
    payments, refunds, disputes = PaymentNotices(postbox), RefundNotices(postbox), DisputeNotices(postbox, admins)
    return {
        billing.PAYMENT_SUCCEEDED: payments.on_succeeded,
        billing.PAYMENT_FAILED: payments.on_failed,
        billing.PAYMENT_REFUNDED: refunds.on_refunded,
        billing.REFUND_REQUEST_APPROVED: refunds.on_request_approved,
        billing.REFUND_REQUEST_DENIED: refunds.on_request_denied,
        billing.DUPLICATE_PURCHASE_REFUNDED: refunds.on_duplicate_refunded,
        billing.PAYMENT_DISPUTED: disputes.on_opened,
        billing.PAYMENT_DISPUTE_CLOSED: disputes.on_closed,
    }
