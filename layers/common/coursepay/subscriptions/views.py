"""What the checkout API (course purchases and subscriptions) shows: the answers ``CourseCheckout`` builds, checked
by ``@responds`` on the way out."""

from __future__ import annotations

from typing import Literal

from pydantic import ConfigDict

from coursepay.billing.enrollments import EnrollmentStatus
from coursepay.courses.models import PricingType
from coursepay.views import PublicView


class CheckoutStarted(PublicView):
    """The Checkout Session to send the buyer to (a new one, or the buyer's open one again)."""

    model_config = ConfigDict(json_schema_extra={"examples": [{
        "session_id": "cs_test_a1",
        "url": "https://checkout.stripe.com/c/pay/cs_test_a1",
        "course_id": "c_1",
        "pricing": "monthly",
        "amount": 1500,
        "currency": "usd",
    }]})

    session_id: str
    url: str | None
    course_id: str
    pricing: PricingType
    amount: int  # minor units
    currency: str


class CourseAccess(PublicView):
    model_config = ConfigDict(json_schema_extra={"examples": [{
        "course_id": "c_1",
        "has_access": True,
        "reason": "subscription",
        "status": "active",
        "access_until": "2026-02-01T00:00:00Z",
    }]})

    course_id: str
    has_access: bool
    reason: Literal["teacher", "one_time", "subscription"] | None  # why there is access (None: there is none)
    status: EnrollmentStatus | None  # the enrollment's (None: no enrollment)
    access_until: str | None  # None: no end (one-time purchase) or no access


class FulfilmentView(PublicView):
    """The success page's confirmation: the session as Stripe reports it, whether this call fulfilled it."""

    session_id: str
    status: str | None
    payment_status: str | None
    fulfilled: bool
    access: CourseAccess


class MyCourse(PublicView):
    course_id: str
    title: str | None  # None: the course is gone from the catalogue
    has_access: bool
    status: EnrollmentStatus
    access_until: str | None
    enrolled_at: str


class SubscriptionView(PublicView):
    subscription_id: str
    course_id: str
    status: str  # Stripe's subscription status
    current_period_end: str | None
    cancel_at_period_end: bool
    canceled_at: str | None
    ended_at: str | None
    amount: int | None
    currency: str | None
    access_until: str | None  # when the access it grants ends (None: it grants none)
