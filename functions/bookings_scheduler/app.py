"""The booking lifecycle's scheduled steps, every 5 minutes (a Schedule event): expiry of unanswered requests,
the payment deadline, reminders, auto-completion (coursepay.bookings.scheduler).

"Now" is the scheduled event's ``time`` (EventBridge's moment of the run), so a run is reproducible and the
local stack can run the schedule as of a later moment (``POST /_local/schedules/BookingsSchedulerFunction/run
?at=<ISO time>``)."""

from __future__ import annotations

from datetime import datetime
from functools import cache
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from coursepay.bookings.booking_repository import BookingsRepository
from coursepay.bookings.recorder import BookingRecorder
from coursepay.bookings.scheduler import BookingScheduler
from coursepay.bookings.settings import BookingsSchedulerSettings
from coursepay.clock import utc_now
from coursepay.events.publisher import EventPublisher
from coursepay.observability import logger, metrics, tracer
from coursepay.settings import load_settings
from coursepay.storage.audit import AuditTrail

# Stop with this much of the invocation left; what is still due stays in the index for the next run.
SAFETY_MARGIN_MS = 5_000


@cache
def scheduler() -> BookingScheduler:
    settings = load_settings(BookingsSchedulerSettings)
    recorder = BookingRecorder(AuditTrail(settings.audit_table), EventPublisher(settings.event_bus_name).publish)
    return BookingScheduler(BookingsRepository(settings.bookings_table), recorder)


def run_time(event: dict[str, Any]) -> datetime:
    """The scheduled event's ``time`` (the clock when it carries none: an invocation by hand)."""
    stamp = event.get("time") if isinstance(event, dict) else None
    if not isinstance(stamp, str):
        return utc_now()
    return datetime.fromisoformat(stamp)


@logger.inject_lambda_context
@metrics.log_metrics
@tracer.capture_lambda_handler
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    report = scheduler().run(run_time(event),
                             out_of_time=lambda: context.get_remaining_time_in_millis() < SAFETY_MARGIN_MS)
    for name in ("expired", "payment_deadline_cancelled", "reminders", "completed"):
        metrics.add_metric(name=f"Bookings_{name}", unit="Count", value=getattr(report, name))
    logger.info("bookings scheduler", **report.model_dump())
    return report.model_dump()
