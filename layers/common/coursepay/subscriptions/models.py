"""Subscriptions to courses, checkout requests and the access policy.

Grace policy (docs/data-model.md, "Courses"): a renewing subscription gives access until the end of the paid
period plus ``GRACE_PERIOD``; when a renewal fails (``past_due``) access lasts ``GRACE_PERIOD`` past the end of
the last paid period while Stripe retries; a subscription set to cancel at period end gives access until that
end exactly; a canceled one until it ended. One-time purchases give lifetime access.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, StrictBool

from coursepay.clock import iso_now
from coursepay.courses.models import PricingType

GRACE_PERIOD = timedelta(days=3)
LIVE_STATUSES = frozenset({"active", "trialing", "past_due"})


class CheckoutRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    pricing: PricingType
    success_url: str = Field(min_length=1, max_length=2048)
    cancel_url: str = Field(min_length=1, max_length=2048)


class CancelRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # strict: JSON true/false only ("yes", 1 or "true" would otherwise be taken for true)
    at_period_end: StrictBool = True


class Subscription(BaseModel):
    """A student's subscription to a course as Stripe last reported it."""

    subscription_id: str
    user_id: str
    course_id: str
    status: str  # Stripe's: incomplete, active, trialing, past_due, unpaid, canceled, incomplete_expired, paused
    price_id: str | None = None
    subscription_item_id: str | None = None
    amount: int | None = None
    currency: str | None = None
    current_period_start: str | None = None
    current_period_end: str | None = None
    cancel_at_period_end: bool = False
    canceled_at: str | None = None
    ended_at: str | None = None
    stripe_customer_id: str | None = None
    checkout_session_id: str | None = None
    created_at: str = Field(default_factory=iso_now)
    updated_at: str = Field(default_factory=iso_now)

    @property
    def live(self) -> bool:
        return self.status in LIVE_STATUSES

    def access_until(self) -> str | None:
        """When the access this subscription grants ends (None: it grants none)."""
        if self.status in ("active", "trialing") and self.current_period_end:
            if self.cancel_at_period_end:
                return self.current_period_end
            return _plus(self.current_period_end, GRACE_PERIOD)
        if self.status in ("past_due", "unpaid") and self.current_period_start:
            return _plus(self.current_period_start, GRACE_PERIOD)
        if self.status == "canceled":
            return self.ended_at or self.canceled_at or iso_now()
        return None

    def view(self) -> dict[str, Any]:
        return {
            "subscription_id": self.subscription_id,
            "course_id": self.course_id,
            "status": self.status,
            "current_period_end": self.current_period_end,
            "cancel_at_period_end": self.cancel_at_period_end,
            "canceled_at": self.canceled_at,
            "ended_at": self.ended_at,
            "amount": self.amount,
            "currency": self.currency,
            "access_until": self.access_until(),
        }


def iso_from_unix(value: Any) -> str | None:
    if value in (None, ""):
        return None
    return datetime.fromtimestamp(int(value), UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def _plus(moment: str, delta: timedelta) -> str:
    parsed = datetime.fromisoformat(moment.replace("Z", "+00:00")) + delta
    return parsed.isoformat(timespec="seconds").replace("+00:00", "Z")


def subscription_from_stripe(obj: dict[str, Any], *, checkout_session_id: str | None = None) -> Subscription | None:
    """The record for a Stripe subscription object (None when it is not a coursepay course subscription).
    Since API version 2025-03-31 the period lives on the subscription item; older shapes have it on top."""
    metadata = obj.get("metadata") or {}
    if metadata.get("kind") != "course" or not metadata.get("user_id") or not metadata.get("course_id"):
        return None
    items = (obj.get("items") or {}).get("data") or [{}]
    item = items[0]
    price = item.get("price") or {}
    customer = obj.get("customer")
    return Subscription(
        subscription_id=str(obj["id"]),
        user_id=str(metadata["user_id"]),
        course_id=str(metadata["course_id"]),
        status=str(obj.get("status") or "incomplete"),
        price_id=price.get("id"),
        subscription_item_id=item.get("id"),
        amount=price.get("unit_amount"),
        currency=price.get("currency"),
        current_period_start=iso_from_unix(item.get("current_period_start") or obj.get("current_period_start")),
        current_period_end=iso_from_unix(item.get("current_period_end") or obj.get("current_period_end")),
        cancel_at_period_end=bool(obj.get("cancel_at_period_end")),
        canceled_at=iso_from_unix(obj.get("canceled_at")),
        ended_at=iso_from_unix(obj.get("ended_at")),
        stripe_customer_id=customer if isinstance(customer, str) else (customer or {}).get("id"),
        checkout_session_id=checkout_session_id,
        created_at=iso_from_unix(obj.get("created")) or iso_now(),
    )
