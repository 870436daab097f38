"""Stripe event reconciliation, every 15 minutes (a Schedule event): relays the events the webhook missed
and the stored ones stuck unpublished (coursepay.reconciliation)."""

from __future__ import annotations

from functools import cache
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from coursepay.observability import logger, metrics, tracer
from coursepay.reconciliation.service import StripeEventReconciler
from coursepay.settings import ReconciliationSettings, load_settings

# Stop relaying with this much of the invocation left; the checkpoint keeps what was done for the next run.
SAFETY_MARGIN_MS = 5_000


@cache
def reconciler() -> StripeEventReconciler:
    return StripeEventReconciler.from_settings(load_settings(ReconciliationSettings))


@logger.inject_lambda_context
@metrics.log_metrics
@tracer.capture_lambda_handler
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    report = reconciler().run(out_of_time=lambda: context.get_remaining_time_in_millis() < SAFETY_MARGIN_MS)
    metrics.add_metric(name="ReconciledEvents_relayed", unit="Count", value=report.relayed)
    metrics.add_metric(name="ReconciledEvents_stuck_republished", unit="Count", value=report.stuck_republished)
    log = logger.warning if report.relayed or report.stuck_republished or not report.complete else logger.info
    log("stripe reconciliation", **report.model_dump())
    return report.model_dump()
