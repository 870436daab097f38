"""Stripe webhook: POST /webhooks/stripe (no JWT; authenticated by Stripe's signature)."""

from __future__ import annotations

import base64
from functools import cache
from typing import Any

from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from coursepay.api.resolver import make_resolver
from coursepay.events.publisher import EventPublisher
from coursepay.observability import logger, metrics, tracer
from coursepay.secrets import get_json_secret
from coursepay.settings import WebhookSettings, load_settings
from coursepay.webhooks.repository import StripeEventsRepository
from coursepay.webhooks.service import StripeWebhookIngest

app = make_resolver()


@cache
def service() -> StripeWebhookIngest:
    settings = load_settings(WebhookSettings)
    return StripeWebhookIngest(
        StripeEventsRepository(settings.stripe_events_table),
        EventPublisher(settings.event_bus_name),
        lambda: str(get_json_secret(settings.stripe_webhook_secret_id)["signing_secret"]),
        tolerance_seconds=settings.signature_tolerance_seconds,
    )


def _raw_body() -> bytes:
    event = app.current_event
    body = event.body or ""
    return base64.b64decode(body) if event.is_base64_encoded else body.encode()


@app.post("/webhooks/stripe")
def stripe_webhook() -> dict[str, Any]:
    result = service().ingest(_raw_body(), app.current_event.headers.get("stripe-signature"))
    metrics.add_metric(name=f"StripeEvents_{result.outcome}", unit="Count", value=1)
    logger.info("stripe event", event_id=result.event_id, outcome=result.outcome)
    return result.model_dump()


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
@metrics.log_metrics
@tracer.capture_lambda_handler
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
