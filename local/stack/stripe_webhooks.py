"""The Stripe sandbox's webhook endpoints for the local API (the platform's and the Connect one), each signing
secret written where the webhook function reads it (list form ``{"signing_secrets": ["whsec_…"]}``).

Each endpoint subscribes to the event types coursepay acts on (``events/catalogue.py``), as a deployed endpoint
should: Stripe then sends nothing the webhook would only acknowledge and drop."""

from __future__ import annotations

import importlib.util
import json
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from stripe.params import WebhookEndpointCreateParams

# secret logical id -> the route its endpoint delivers to
WEBHOOK_PATHS = {"StripeWebhookSecret": "/webhooks/stripe", "StripeConnectWebhookSecret": "/webhooks/stripe/connect"}


def register_webhook_endpoints(stripe_url: str, secret_key: str, api_port: int, secrets: Any,
                               outputs: Mapping[str, str], log: Callable[[str], None]) -> dict[str, str | None]:
    """Secret logical id -> the endpoint's signing secret (None when the sandbox refused the endpoint)."""
    import stripe

    client = stripe.StripeClient(secret_key, base_addresses={"api": stripe_url})
    registered: dict[str, str | None] = {}
    for secret_id, path in WEBHOOK_PATHS.items():
        url = f"http://127.0.0.1:{api_port}{path}"
        endpoint = _create(client, url, connect=secret_id == "StripeConnectWebhookSecret", log=log)
        registered[secret_id] = str(endpoint.secret) if endpoint is not None else None
        if endpoint is not None:
            secrets.put_secret_value(SecretId=outputs[secret_id],
                                     SecretString=json.dumps({"signing_secrets": [str(endpoint.secret)]}))
    return registered


CATALOGUE = Path(__file__).resolve().parents[2] / "layers" / "common" / "coursepay" / "events" / "catalogue.py"


def handled_event_types() -> list[Any]:
    """The layer's catalogue of handled Stripe event types. The stack process keeps the layer off its own path
    (only the function processes get it, as in Lambda), so this one dependency-free module is loaded by file."""
    spec = importlib.util.spec_from_file_location("local_stack_event_catalogue", CATALOGUE)
    if spec is None or spec.loader is None:
        raise FileNotFoundError(CATALOGUE)
    catalogue = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(catalogue)
    return sorted(catalogue.HANDLED_STRIPE_EVENT_TYPES)


def _create(client: Any, url: str, *, connect: bool, log: Callable[[str], None]) -> Any:
    import stripe

    params: WebhookEndpointCreateParams = {"url": url, "enabled_events": handled_event_types()}
    if connect:  # only connected accounts' events, each with its ``account``
        params["connect"] = True
    try:
        return client.v1.webhook_endpoints.create(params=params)
    except stripe.InvalidRequestError as error:
        if not connect or error.param != "connect":
            log(f"[stack] WARNING: no Stripe webhook endpoint registered for {url}: {error}")
            return None
        log("[stack] the Stripe sandbox refuses `connect`: Connect endpoint registered without it")
        return client.v1.webhook_endpoints.create(params={"url": url, "enabled_events": handled_event_types()})
    except stripe.StripeError as error:
        log(f"[stack] WARNING: no Stripe webhook endpoint registered for {url}: {error}")
        return None
