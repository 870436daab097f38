"""Booking payments in unit tests: a confirmed booking written through the lifecycle's repository, the teacher's
onboarded Connect account, the pay route, and the bus -> fulfilment queue -> consumer hand-over (moto in-process,
the Stripe sandbox)."""

from __future__ import annotations

import json
import os
import uuid
from datetime import UTC, datetime, timedelta
from types import ModuleType
from typing import Any

from coursepay.bookings.booking_repository import BookingsRepository
from coursepay.bookings.bookings import Booking
from coursepay.bookings.events import booking_envelope
from coursepay.bookings.models import PayoutAccount
from coursepay.bookings.payouts_repository import PayoutAccountsRepository
from coursepay.clock import iso_time
from coursepay.events.publisher import EventPublisher
from tests.support.tracks import drain

STUDENT, TEACHER = "student-1", "teacher-1"
BASE, FEE = 7500, 375  # the seed's 50.00/h x 90 minutes


def teacher_account(stripe_client: Any, teacher_id: str = TEACHER) -> str:
    """An onboarded Custom account (transfers active), recorded as the teacher's payout account."""
    account = stripe_client.v1.accounts.create(params={
        "type": "custom", "country": "US", "email": "tutor@example.com", "business_type": "individual",
        "capabilities": {"card_payments": {"requested": True}, "transfers": {"requested": True}},
        "business_profile": {"url": "https://tutor.example"},
        "individual": {"first_name": "Theo", "last_name": "Tutor", "email": "tutor@example.com",
                       "dob": {"day": 1, "month": 4, "year": 1980}, "ssn_last_4": "0000"},
        "external_account": "btok_us_verified", "tos_acceptance": {"date": 1_700_000_000, "ip": "127.0.0.1"}})
    PayoutAccountsRepository(os.environ["BOOKINGS_TABLE"]).create_once(PayoutAccount(
        teacher_id=teacher_id, account_id=account.id, charges_enabled=True, payouts_enabled=True,
        details_submitted=True, created_at="2026-01-01T00:00:00.000Z", updated_at="2026-01-01T00:00:00.000Z"))
    return str(account.id)


def confirmed_booking(*, start_in_hours: float = 72, due_in_hours: float = 24, student: str = STUDENT,
                      teacher: str | None = None) -> Booking:
    """A booking the teacher confirmed (what the lifecycle writes), 90 minutes at 50.00/h; a teacher of its own
    unless named (their slots never clash)."""
    now = datetime.now(UTC).replace(microsecond=0)
    start = (now + timedelta(hours=start_in_hours)).replace(minute=0, second=0)
    stamp = iso_time(now)
    repository = BookingsRepository(os.environ["BOOKINGS_TABLE"])
    booking = Booking(booking_id=f"bk_{uuid.uuid4().hex}", gig_id="gig_1", gig_title="Algebra, step by step",
                      teacher_id=teacher or f"teacher-{uuid.uuid4().hex[:8]}", student_id=student,
                      start=iso_time(start),
                      end=iso_time(start + timedelta(minutes=90)), duration_minutes=90, time_zone="Europe/Berlin",
                      currency="usd", base_amount=BASE, fee_amount=FEE, total_amount=BASE + FEE,
                      requested_at=stamp, respond_by=iso_time(now + timedelta(hours=24)), created_at=stamp,
                      updated_at=stamp)
    repository.create(booking)
    return repository.transition(booking.booking_id, ["pending"], {
        "status": "confirmed", "confirmed_at": stamp, "payment_due": iso_time(now + timedelta(hours=due_in_hours))})


def booking(booking_id: str) -> Booking:
    found = BookingsRepository(os.environ["BOOKINGS_TABLE"]).get(booking_id)
    assert found is not None
    return found


def lifecycle_transition(booking_id: str, from_states: list[str], changes: dict[str, Any],
                         event_type: str) -> Booking:
    """What the lifecycle does at the end of a booking: the transition, then its event on the bus."""
    updated = BookingsRepository(os.environ["BOOKINGS_TABLE"]).transition(booking_id, from_states, changes)
    EventPublisher(os.environ["EVENT_BUS_NAME"]).publish([booking_envelope(updated, event_type)])
    return updated


def consume_fulfilment_queue(aws: Any, fulfilment: ModuleType, context: Any) -> dict[str, Any]:
    """The bus's rules routed domain events into the fulfilment queue: hand them to the consumer."""
    records = drain(aws, "FulfilmentQueue")
    assert records, "the bus routed nothing to the fulfilment queue"
    return dict(fulfilment.lambda_handler({"Records": records}, context))


def redeliver(booking_id: str, event_type: str) -> None:
    """The booking's lifecycle event again, as a new delivery of its own (another id: not deduplicated by the
    consumer's claim, only by what the handler keys its side effects by)."""
    envelope = booking_envelope(booking(booking_id), event_type, suffix="redelivered")
    EventPublisher(os.environ["EVENT_BUS_NAME"]).publish([envelope])


def published(aws: Any, *types: str) -> list[dict[str, Any]]:
    """The coursepay.bookings envelopes the bus delivered to the notifications queue (drained)."""
    envelopes = [json.loads(record["body"])["detail"] for record in drain(aws, "NotificationsQueue")]
    return [e for e in envelopes if e["source"] == "coursepay.bookings" and (not types or e["type"] in types)]
