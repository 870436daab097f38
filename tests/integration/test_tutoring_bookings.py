"""Booking lifecycle through the local stack, on the demo tutor's seeded "Algebra, step by step" gig (Berlin,
Mondays 09:00-12:00, Wednesdays 14:00-18:00): quote, request, the teacher confirms one and declines another,
and the BookingsSchedulerFunction, run through the control route as of later moments, expires an unanswered
request and cancels a confirmed booking left unpaid past its deadline."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

BERLIN = ZoneInfo("Europe/Berlin")


def next_weekday(weekday: int, hour: int, minute: int = 0) -> str:
    """The first such Berlin wall-clock time at least two days ahead (the gig needs 12 hours' notice)."""
    day = datetime.now(UTC).astimezone(BERLIN).date() + timedelta(days=2)
    day += timedelta(days=(weekday - day.weekday()) % 7)
    return datetime.combine(day, datetime.min.time().replace(hour=hour, minute=minute), BERLIN).astimezone(
        UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def run_scheduler(api, at: str) -> dict:
    response = api.post("/_local/schedules/BookingsSchedulerFunction/run", params={"at": at}, timeout=60)
    assert response.status_code == 200, response.text
    return response.json()["runs"][0]["result"]


def test_request_confirm_decline_and_the_scheduled_expiry_and_payment_deadline(api, login):
    tutor = login("tutor@coursepay.local")["access_token"]
    student = login("student@coursepay.local")["access_token"]
    tutor_id = api.get("/me", token=tutor).json()["user_id"]
    gig = next(g for g in api.get("/gigs", params={"teacher_id": tutor_id}).json()["items"]
               if g["title"] == "Algebra, step by step")

    quote = api.post("/bookings/quote", token=student,
                     json={"gig_id": gig["gig_id"], "start": next_weekday(0, 9), "duration_minutes": 90})
    assert quote.status_code == 200, quote.text
    assert (quote.json()["base_amount"], quote.json()["fee_amount"], quote.json()["total_amount"]) == (7500, 375, 7875)

    def request(start: str, minutes: int) -> dict:
        response = api.post("/bookings", token=student,
                            json={"gig_id": gig["gig_id"], "start": start, "duration_minutes": minutes})
        assert response.status_code == 201, response.text
        return response.json()

    unanswered = request(next_weekday(2, 14), 30)
    confirmed_one = request(next_weekday(0, 9), 60)
    declined_one = request(next_weekday(0, 10, 30), 60)
    taken = api.post("/bookings", token=student,
                     json={"gig_id": gig["gig_id"], "start": next_weekday(0, 9, 30), "duration_minutes": 30})
    assert (taken.status_code, taken.json()["error"]["code"]) == (409, "slot_taken")

    confirmed = api.post(f"/bookings/{confirmed_one['booking_id']}/confirm", token=tutor)
    assert (confirmed.status_code, confirmed.json()["status"]) == (200, "confirmed")
    declined = api.post(f"/bookings/{declined_one['booking_id']}/decline", token=tutor, json={"reason": "busy"})
    assert (declined.status_code, declined.json()["status"]) == (200, "declined")
    assert api.post(f"/bookings/{declined_one['booking_id']}/confirm", token=tutor).status_code == 409
    mine = api.get("/bookings", token=student).json()
    assert {b["booking_id"] for b in mine["items"]} >= {unanswered["booking_id"], confirmed_one["booking_id"]}
    assert api.get(f"/bookings/{unanswered['booking_id']}", token=login("teacher@coursepay.local")[
        "access_token"]).status_code == 404  # another teacher

    # As of the unanswered request's deadline: it expires; the confirmed one is still payable.
    report = run_scheduler(api, unanswered["respond_by"])
    assert report["expired"] >= 1
    assert api.get(f"/bookings/{unanswered['booking_id']}", token=student).json()["status"] == "expired"
    assert api.get(f"/bookings/{confirmed_one['booking_id']}", token=student).json()["status"] == "confirmed"
    assert run_scheduler(api, unanswered["respond_by"])["expired"] == 0  # once

    # As of the confirmed booking's payment deadline, still unpaid: cancelled by the system, its slot free again.
    report = run_scheduler(api, confirmed.json()["payment_due"])
    assert report["payment_deadline_cancelled"] >= 1
    cancelled = api.get(f"/bookings/{confirmed_one['booking_id']}", token=student).json()
    assert (cancelled["status"], cancelled["cancelled_by"]) == ("cancelled", "system")
    assert request(next_weekday(0, 9, 30), 30)["status"] == "pending"
