"""The booking lifecycle, people's side: quote, request, read, confirm / decline, cancel, complete, report a
problem (docs/engineering.md, "Booking lifecycle"; the scheduled side is coursepay.bookings.scheduler).

Who may act: the booking's student, the gig's teacher, admins; anyone else gets a 404 (a booking of someone
else is indistinguishable from none). Every change is one conditional write (status and version), then its
audit entry and domain event (coursepay.bookings.recorder). The same action twice answers with the booking as
it is; an action the state does not allow is a 409 saying why."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Callable, Collection, Mapping
from datetime import datetime, timedelta
from typing import Any

from coursepay.bookings import events
from coursepay.bookings.booking_repository import BookingsRepository
from coursepay.bookings.booking_requests import BookingListQuery, BookingRequest, ProblemReport, QuoteRequest
from coursepay.bookings.booking_views import CancelledBy
from coursepay.bookings.bookings import Booking, BookingPage
from coursepay.bookings.models import Gig
from coursepay.bookings.quote import Quote
from coursepay.bookings.recorder import BookingRecorder
from coursepay.bookings.repository import GigsRepository
from coursepay.bookings.rules import BookingRules
from coursepay.bookings.slots import check_bookable
from coursepay.clock import iso_time, utc_now
from coursepay.errors import ConditionFailed, Conflict, Forbidden, InvalidRequest, NotFound
from coursepay.identity import Principal

# Payments' refund policy for a paid booking (branch issue10-cards plugs it in): returns the cancelled booking.
PaidCancellation = Callable[[Principal, Booking, CancelledBy, str | None], Booking]
UNPAID = frozenset({"unpaid", "failed"})  # nothing was charged: cancelling costs nothing


def booking_id_for(student_id: str, idempotency_key: str | None) -> str:
    """A repeated request (same student, same Idempotency-Key) names the same booking."""
    if not idempotency_key:
        return f"bk_{uuid.uuid4().hex[:20]}"
    return f"bk_{hashlib.sha256(f'{student_id}\n{idempotency_key}'.encode()).hexdigest()[:20]}"


def _actor(principal: Principal) -> str:
    return f"user:{principal.user_id}"


class BookingService:
    def __init__(self, bookings: BookingsRepository, gigs: GigsRepository, recorder: BookingRecorder,
                 rules: BookingRules, *, clock: Callable[[], datetime] = utc_now,
                 paid_cancellation: PaidCancellation | None = None) -> None:
        self._bookings = bookings
        self._gigs = gigs
        self._recorder = recorder
        self._rules = rules
        self._clock = clock
        self._paid_cancellation = paid_cancellation

    # ------------------------------------------------------------------ quote and request
    def quote(self, request: QuoteRequest) -> Quote:
        gig = self._active_gig(request.gig_id)
        if request.duration_minutes not in gig.durations:
            raise InvalidRequest(f"duration_minutes: this gig offers {gig.durations} minutes",
                                 field="duration_minutes", code="duration_not_offered")
        return self._rules.fee.quote(gig, request.duration_minutes)

    def request(self, principal: Principal, request: BookingRequest, idempotency_key: str | None) -> Booking:
        booking_id = booking_id_for(principal.user_id, idempotency_key)
        stored = self._bookings.get(booking_id) if idempotency_key else None
        if stored is not None and stored.student_id == principal.user_id:
            return stored  # the same request again (even once its start is inside the notice)
        gig = self._active_gig(request.gig_id)
        now, start = self._clock(), datetime.fromisoformat(request.start)
        check_bookable(gig, student_id=principal.user_id, start=start, duration_minutes=request.duration_minutes,
                       now=now)
        booking = self._new_booking(booking_id, gig, principal.user_id, start, request.duration_minutes, now)
        try:
            self._bookings.create(booking)
        except ConditionFailed:
            stored = self._bookings.get(booking_id)
            if stored is not None and stored.student_id == principal.user_id:
                return stored  # the same request, concurrently
            raise Conflict("start: the teacher already has a booking overlapping this slot", field="start",
                           code="slot_taken") from None
        self._recorder.record(events.BOOKING_REQUESTED, booking, actor=_actor(principal))
        return booking

    def _new_booking(self, booking_id: str, gig: Gig, student_id: str, start: datetime, minutes: int,
                     now: datetime) -> Booking:
        end = start + timedelta(minutes=minutes)
        quote = self._rules.fee.quote(gig, minutes)
        remind_at = start - self._rules.reminder_before
        return Booking(
            booking_id=booking_id, gig_id=gig.gig_id, gig_title=gig.title, teacher_id=gig.teacher_id,
            student_id=student_id, start=iso_time(start), end=iso_time(end), duration_minutes=minutes,
            time_zone=gig.time_zone, currency=quote.currency, base_amount=quote.base_amount,
            fee_amount=quote.fee_amount, total_amount=quote.total_amount, requested_at=iso_time(now),
            respond_by=iso_time(min(now + self._rules.request_expiry, start)),
            remind_at=iso_time(remind_at) if remind_at > now else None,  # booked late: no reminder
            auto_complete_at=iso_time(end + self._rules.auto_complete_after),
            created_at=iso_time(now), updated_at=iso_time(now))

    # ------------------------------------------------------------------ reads
    def get(self, principal: Principal, booking_id: str) -> Booking:
        booking = self._bookings.get(booking_id)
        if booking is None or not (principal.user_id in (booking.student_id, booking.teacher_id)
                                   or principal.is_admin):
            raise NotFound("no such booking", field="bookingId")
        return booking

    def list(self, principal: Principal, query: BookingListQuery) -> BookingPage:
        role = query.role or ("admin" if principal.is_admin else "student")
        if role == "admin":
            if not principal.is_admin:
                raise Forbidden("only admins see every booking", field="role")
            return self._bookings.every(limit=query.limit, cursor=query.cursor)
        if role == "teacher":
            return self._bookings.of_teacher(principal.user_id, limit=query.limit, cursor=query.cursor)
        return self._bookings.of_student(principal.user_id, limit=query.limit, cursor=query.cursor)

    # ------------------------------------------------------------------ the teacher answers
    def confirm(self, principal: Principal, booking_id: str) -> Booking:
        booking = self._as_teacher(principal, booking_id, "confirm")
        if booking.status == "confirmed":
            return booking
        now = self._clock()
        if booking.status == "pending" and iso_time(now) >= booking.respond_by:
            raise Conflict("the request expired: it was not answered in time", field="bookingId", code="expired")
        payment_due = min(now + self._rules.payment_deadline, datetime.fromisoformat(booking.start))
        changes = {"status": "confirmed", "confirmed_at": iso_time(now), "payment_due": iso_time(payment_due)}
        return self._change(principal, booking, "confirmed", events.BOOKING_CONFIRMED, {"pending"}, changes)

    def decline(self, principal: Principal, booking_id: str, reason: str | None) -> Booking:
        booking = self._as_teacher(principal, booking_id, "decline")
        if booking.status == "declined":
            return booking
        return self._change(principal, booking, "declined", events.BOOKING_DECLINED, {"pending"},
                            {"status": "declined", "cancel_reason": reason})

    # ------------------------------------------------------------------ cancel
    def cancel(self, principal: Principal, booking_id: str, reason: str | None) -> Booking:
        booking = self.get(principal, booking_id)
        if booking.status == "cancelled":
            return booking
        by: CancelledBy = ("student" if principal.user_id == booking.student_id else
                           "teacher" if principal.user_id == booking.teacher_id else "admin")
        if booking.status == "pending" and by == "teacher":
            raise Conflict("a teacher declines a request (POST /bookings/{id}/decline) rather than cancel it",
                           field="bookingId")
        if booking.status == "confirmed" and booking.payment_status == "processing":
            raise Conflict("a payment of this booking is in progress; try again once it is settled",
                           field="bookingId", code="payment_in_progress")
        if booking.status == "completed" and booking.payment_status not in UNPAID:
            if by != "admin":
                raise Conflict("a completed session is cancelled and refunded by an admin only", field="bookingId",
                               code="completed")
            if self._paid_cancellation is None:
                raise Conflict("a paid booking is cancelled under the refund policy, not available yet",
                               field="bookingId", code="refund_policy_unavailable")
            return self._paid_cancellation(principal, booking, by, reason)
        if booking.status == "confirmed" and booking.payment_status not in UNPAID:
            if self._paid_cancellation is None:
                raise Conflict("a paid booking is cancelled under the refund policy, not available yet",
                               field="bookingId", code="refund_policy_unavailable")
            return self._paid_cancellation(principal, booking, by, reason)
        changes = {"status": "cancelled", "cancelled_at": iso_time(self._clock()), "cancelled_by": by,
                   "cancel_reason": reason}
        return self._change(principal, booking, "cancelled", events.BOOKING_CANCELLED, {"pending", "confirmed"},
                            changes, still=lambda b: b.payment_status in UNPAID)

    # ------------------------------------------------------------------ after the session
    def complete(self, principal: Principal, booking_id: str) -> Booking:
        booking = self._as_teacher(principal, booking_id, "complete")
        if booking.status == "completed":
            return booking
        now = iso_time(self._clock())
        if booking.status == "confirmed" and booking.payment_status != "paid":
            raise Conflict("the booking is not paid: no session, nothing to complete", field="bookingId",
                           code="not_paid")
        if booking.status == "confirmed" and now < booking.end:
            raise Conflict(f"the session ends at {booking.end}: complete it after that", field="bookingId",
                           code="not_ended")
        return self._change(principal, booking, "completed", events.BOOKING_COMPLETED, {"confirmed"},
                            {"status": "completed", "completed_at": now}, still=lambda b: b.payment_status == "paid")

    def report_problem(self, principal: Principal, booking_id: str, report: ProblemReport) -> Booking:
        booking = self.get(principal, booking_id)
        if principal.user_id != booking.student_id and not principal.is_admin:
            raise Forbidden("only the booking's student reports a problem with it")
        if booking.problem_reported:
            return booking
        now = iso_time(self._clock())
        if booking.status != "confirmed" or booking.payment_status != "paid":
            raise Conflict(f"only a paid, confirmed booking can have a problem reported (this one is "
                           f"{booking.status}/{booking.payment_status})", field="bookingId")
        if booking.auto_complete_at and now >= booking.auto_complete_at:
            raise Conflict("too late: the booking completed automatically", field="bookingId", code="too_late")
        changes = {"problem_reported": True, "problem_reported_at": now, "problem_description": report.description}
        updated = self._write(booking, {"confirmed"}, changes, still=lambda b: b.payment_status == "paid")
        self._recorder.record("booking.problem_reported", updated, actor=_actor(principal), before=booking,
                              publish=False)
        return updated

    # ------------------------------------------------------------------ helpers
    def _active_gig(self, gig_id: str) -> Gig:
        gig = self._gigs.get(gig_id)
        if gig is None or not gig.active:
            raise NotFound("no such gig", field="gig_id")
        return gig

    def _as_teacher(self, principal: Principal, booking_id: str, action: str) -> Booking:
        booking = self.get(principal, booking_id)
        if principal.user_id != booking.teacher_id and not principal.is_admin:
            raise Forbidden(f"only the gig's teacher or an admin may {action} this booking")
        return booking

    def _write(self, booking: Booking, from_states: Collection[str], changes: Mapping[str, Any], *,
               still: Callable[[Booking], bool] = lambda _: True) -> Booking:
        """One conditional write on the version read. ``still``: what else about the read must hold."""
        if booking.status not in from_states or not still(booking):
            raise Conflict(f"a {booking.status} booking ({booking.payment_status}) cannot do that",
                           field="bookingId")
        try:
            return self._bookings.transition(booking.booking_id, from_states, changes,
                                             expected_version=booking.version)
        except ConditionFailed:
            raise Conflict("the booking changed meanwhile; read it again and retry", field="bookingId") from None

    def _change(self, principal: Principal, booking: Booking, target: str, event_type: str,
                from_states: Collection[str], changes: Mapping[str, Any], *,
                still: Callable[[Booking], bool] = lambda _: True) -> Booking:
        try:
            updated = self._write(booking, from_states, changes, still=still)
        except Conflict:
            current = self._bookings.get(booking.booking_id)
            if current is not None and current.status == target:
                return current  # the same action, concurrently
            raise
        self._recorder.record(event_type, updated, actor=_actor(principal), before=booking)
        return updated
