"""Stripe events publisher: the StripeEventsTable's stream (new events only) to the bus, partial batch failures."""

from __future__ import annotations

from functools import cache
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from coursepay.observability import logger, metrics, tracer
from coursepay.settings import StripeEventPublicationSettings, load_settings
from coursepay.webhooks.publication import StripeEventPublication


@cache
def publication() -> StripeEventPublication:
    settings = load_settings(StripeEventPublicationSettings)
    return StripeEventPublication.for_resources(settings.stripe_events_table, settings.event_bus_name)


@logger.inject_lambda_context
@metrics.log_metrics
@tracer.capture_lambda_handler
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return publication().process_stream(event, context)
