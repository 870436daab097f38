"""Stripe webhooks (no JWT; authenticated by Stripe's signature): POST /webhooks/stripe for the platform's
events, POST /webhooks/stripe/connect for connected accounts' events, each with its own signing secrets."""

from __future__ import annotations

import base64
from functools import cache
from typing import Any

from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from coursepay.api.resolver import make_resolver
from coursepay.api.responses import responds
from coursepay.observability import logger, metrics, tracer
from coursepay.settings import WebhookSettings, load_settings
from coursepay.webhooks.relay import StripeEventRelay
from coursepay.webhooks.service import IngestResult, StripeWebhookIngest
from coursepay.webhooks.signing_secrets import signing_secrets

app = make_resolver()


def _ingest(secret_id: str, *, connect: bool) -> StripeWebhookIngest:
    settings = load_settings(WebhookSettings)
    return StripeWebhookIngest(
        StripeEventRelay.for_resources(settings.stripe_events_table),
        lambda: signing_secrets(secret_id),
        tolerance_seconds=settings.signature_tolerance_seconds,
        connect=connect,
    )


@cache
def platform_service() -> StripeWebhookIngest:
    return _ingest(load_settings(WebhookSettings).stripe_webhook_secret_id, connect=False)


@cache
def connect_service() -> StripeWebhookIngest:
    return _ingest(load_settings(WebhookSettings).stripe_connect_webhook_secret_id, connect=True)


def _raw_body() -> bytes:
    event = app.current_event
    body = event.body or ""
    return base64.b64decode(body) if event.is_base64_encoded else body.encode()


def _answer(result: IngestResult, endpoint: str) -> IngestResult:
    logger.info("stripe event", event_id=result.event_id, outcome=result.outcome, endpoint=endpoint)
    return result


@app.post("/webhooks/stripe")
@responds(IngestResult)
def stripe_webhook() -> IngestResult:
    return _answer(platform_service().ingest(_raw_body(), app.current_event.headers.get("stripe-signature")),
                   "platform")


@app.post("/webhooks/stripe/connect")
@responds(IngestResult)
def stripe_connect_webhook() -> IngestResult:
    return _answer(connect_service().ingest(_raw_body(), app.current_event.headers.get("stripe-signature")),
                   "connect")


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
@metrics.log_metrics
@tracer.capture_lambda_handler
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
