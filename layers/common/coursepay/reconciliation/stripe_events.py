"""Stripe's ``events.list`` as reconciliation reads it: by type, created since a time, oldest first.

Stripe lists newest first and accepts at most 20 ``types`` per request, so the types are asked for in
chunks of 20 and the pages are collected before anything is relayed (events then enter oldest first, as
the webhook would have delivered them). Only the platform account is listed: a connected account's
events need one listing per account (``Stripe-Account`` header), which is not done yet.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from itertools import batched
from typing import TYPE_CHECKING, Any

from coursepay.stripe_gateway.errors import stripe_errors

if TYPE_CHECKING:
    import stripe

MAX_TYPES_PER_LIST = 20  # Stripe's limit on events.list's ``types`` array
PAGE_SIZE = 100


def list_events(stripe_client: Callable[[], stripe.StripeClient], *, types: Iterable[str],
                created_gte: int) -> list[dict[str, Any]]:
    """Every event of ``types`` created at or after ``created_gte`` (unix seconds), oldest first."""
    oldest_first: list[dict[str, Any]] = []
    with stripe_errors("list events"):
        for chunk in batched(sorted(set(types)), MAX_TYPES_PER_LIST, strict=False):
            page = stripe_client().v1.events.list(
                params={"types": list(chunk), "created": {"gte": created_gte}, "limit": PAGE_SIZE})
            # for_json: the SDK's Decimals (``*_decimal`` fields) back to the strings Stripe sent, as a delivery has
            newest_first = [event.to_dict(for_json=True) for event in page.auto_paging_iter()]
            oldest_first.extend(reversed(newest_first))
    # A stable sort: the chunks merge by time, and events of one second keep Stripe's order.
    return sorted(oldest_first, key=lambda event: int(event.get("created") or 0))
