"""The booking lifecycle, scheduled side (BookingsSchedulerFunction, every 5 minutes): each run takes what is
due from the sparse ``due`` index (coursepay.bookings.booking_repository) and, on a fresh read of each booking:

- expires a request unanswered by ``respond_by`` (its slots freed) -> ``booking.expired``;
- cancels a confirmed booking unpaid (or failed) by ``payment_due`` -> ``booking.cancelled`` (by ``system``);
- emits ``booking.reminder_due`` once, at ``remind_at``, for a paid booking;
- completes a paid booking at ``auto_complete_at`` unless a problem was reported -> ``booking.completed``
  (payments' consumer makes the teacher's Transfer on it).

Each step is a conditional write on the version read, so a run racing a person (the teacher confirming as
the request expires) or another run does the step at most once; the loser skips it and the next run sees the
booking as it is then."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from pydantic import BaseModel

from coursepay.bookings import events
from coursepay.bookings.booking_repository import BookingsRepository
from coursepay.bookings.bookings import Booking
from coursepay.bookings.recorder import BookingRecorder
from coursepay.clock import iso_time
from coursepay.errors import ConditionFailed
from coursepay.observability import logger

SYSTEM = "system"
_PAGE = 100


class SchedulerReport(BaseModel):
    expired: int = 0
    payment_deadline_cancelled: int = 0
    reminders: int = 0
    completed: int = 0
    raced: int = 0  # a step another writer got to first
    complete: bool = True  # False: the run stopped for time; the rest is still due for the next one


class BookingScheduler:
    def __init__(self, bookings: BookingsRepository, recorder: BookingRecorder) -> None:
        self._bookings = bookings
        self._recorder = recorder

    def run(self, now: datetime, *, out_of_time: Callable[[], bool] = lambda: False) -> SchedulerReport:
        report = SchedulerReport()
        moment = iso_time(now)
        seen: set[str] = set()
        while True:
            due = [booking for booking in self._bookings.due(moment, limit=_PAGE) if booking.booking_id not in seen]
            if not due:
                return report
            for listed in due:
                if out_of_time():
                    report.complete = False
                    return report
                seen.add(listed.booking_id)
                self._step(listed.booking_id, moment, report)

    def _step(self, booking_id: str, now: str, report: SchedulerReport) -> None:
        booking = self._bookings.get(booking_id)  # the index is eventually consistent: decide on the item
        if booking is None:
            return
        try:
            if booking.status == "pending" and booking.respond_by <= now:
                self._move(booking, {"status": "expired"}, events.BOOKING_EXPIRED)
                report.expired += 1
            elif (booking.status == "confirmed" and booking.payment_status in ("unpaid", "failed")
                  and booking.payment_due is not None and booking.payment_due <= now):
                self._move(booking, {"status": "cancelled", "cancelled_at": now, "cancelled_by": SYSTEM,
                                     "cancel_reason": "not paid by the payment deadline"}, events.BOOKING_CANCELLED)
                report.payment_deadline_cancelled += 1
            elif booking.status == "confirmed" and booking.payment_status == "paid":
                self._paid_step(booking, now, report)
        except ConditionFailed:
            logger.info("booking changed while its scheduled step ran; left to the next run", booking=booking_id)
            report.raced += 1

    def _paid_step(self, booking: Booking, now: str, report: SchedulerReport) -> None:
        if booking.remind_at and not booking.reminder_sent_at and booking.remind_at <= now:
            self._move(booking, {"reminder_sent_at": now}, events.BOOKING_REMINDER_DUE)
            report.reminders += 1
            booking = self._bookings.get(booking.booking_id) or booking
        if booking.auto_complete_at and not booking.problem_reported and booking.auto_complete_at <= now:
            self._move(booking, {"status": "completed", "completed_at": now}, events.BOOKING_COMPLETED)
            report.completed += 1

    def _move(self, booking: Booking, changes: dict[str, object], event_type: str) -> None:
        updated = self._bookings.transition(booking.booking_id, {booking.status}, changes,
                                            expected_version=booking.version)
        self._recorder.record(event_type, updated, actor=SYSTEM, before=booking)
