"""The one place that creates the Stripe client: the SDK is imported only here and only when a
function first needs it; the key comes from Secrets Manager; the base address from settings (the
local stack points it at the Stripe sandbox)."""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from typing import TYPE_CHECKING

from coursepay.secrets import get_json_secret

if TYPE_CHECKING:
    import stripe

    from coursepay.settings import StripeSettings


@cache
def stripe_client(api_key_secret_id: str, api_base: str) -> stripe.StripeClient:
    import stripe

    secret = get_json_secret(api_key_secret_id)
    return stripe.StripeClient(
        secret["secret_key"],
        base_addresses={"api": api_base},
        max_network_retries=2,
    )


def publishable_key(api_key_secret_id: str) -> str:
    return str(get_json_secret(api_key_secret_id).get("publishable_key", ""))


def stripe_provider(settings: StripeSettings) -> Callable[[], stripe.StripeClient]:
    """What services take: a function giving the client at first call (not at import, not at build time)."""
    return lambda: stripe_client(settings.stripe_api_key_secret_id, settings.stripe_api_base)
