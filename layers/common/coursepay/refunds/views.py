"""A refund request as the API shows it, to its student and to admins; the stored record
(``coursepay.refunds.repository.RefundRequest``) extends it with the Stripe attempt counter. And the query of the
admins' queue of them."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from coursepay.clock import iso_now
from coursepay.views import PageQuery, PublicView

RefundRequestStatus = Literal["pending", "approving", "approved", "denied"]


class RefundRequestView(PublicView):
    request_id: str
    payment_id: str
    user_id: str
    reason: str
    status: RefundRequestStatus = "pending"
    amount_paid: int  # minor units
    currency: str
    refundable_at_request: int  # what was left to refund when it was asked for
    approved_amount: int | None = None
    stripe_refund_id: str | None = None
    stripe_refund_status: str | None = None
    decided_by: str | None = None
    decided_at: str | None = None
    decision_reason: str | None = None
    requested_at: str = Field(default_factory=iso_now)
    updated_at: str = Field(default_factory=iso_now)


class RefundQueueQuery(PageQuery):
    """``GET /admin/refund-requests``: one status's queue, oldest first."""

    status: RefundRequestStatus = Field(default="pending", description="The queue of this status")
