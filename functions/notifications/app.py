"""Notifications consumer: SQS batches of bus events, partial batch failures, once per event id."""

from __future__ import annotations

from functools import cache
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext
from coursepay.consumers.notifications import build_consumer
from coursepay.consumers.runner import EventConsumer
from coursepay.observability import logger, metrics, tracer


@cache
def consumer() -> EventConsumer:
    return build_consumer()


@logger.inject_lambda_context
@metrics.log_metrics
@tracer.capture_lambda_handler
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return consumer().process(event, context)
