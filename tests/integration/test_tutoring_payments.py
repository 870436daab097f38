"""Tutoring marketplace, students' money, through the local stack and the Stripe sandbox: a card saved in a real
browser on the sandbox's save-card page (Stripe.js's client-side SetupIntent confirmation with the publishable key),
listed, made default and removed, only the owner's; twenty clicks on pay make one PaymentIntent and one charge, the
webhook makes the booking paid, completion transfers exactly the base to the teacher once; a 3-D Secure card.

One test goes the whole way through the lifecycle's routes and scheduler (request, confirm, pay, auto-complete,
transfer); the others write their confirmed bookings and lifecycle events as the lifecycle does (its repository on
the stack's DynamoDB, its event on the stack's bus), so a teacher without an account or a start two hours away
needs no calendar."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

import pytest
import requests

from coursepay import aws_clients
from local.stack.seed import DEMO_PASSWORD
from tests.support.accounts import register_verified
from tests.support.booking_payments import (
    BASE,
    FEE,
    booking,
    confirmed_booking,
    lifecycle_transition,
    teacher_account,
)
from tests.support.saved_cards import confirm_card_setup


@pytest.fixture(scope="module")
def student(api: Any, stack: Any, login: Callable[..., dict[str, Any]]) -> Callable[[], str]:
    """``student()``: a freshly registered student's access token."""

    def register() -> str:
        email = f"tutee-{uuid.uuid4().hex[:8]}@example.com"
        register_verified(api, stack, email, DEMO_PASSWORD, "Tia Tutee")
        return str(login(email)["access_token"])

    return register


@pytest.fixture
def lifecycle(aws: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The lifecycle's repository and publisher in this process, on the stack's moto server."""
    credentials = aws.session.get_credentials()
    for name, value in {"AWS_ENDPOINT_URL": aws.endpoint, "AWS_ACCESS_KEY_ID": credentials.access_key,
                        "AWS_SECRET_ACCESS_KEY": credentials.secret_key, "AWS_DEFAULT_REGION": aws.session.region_name,
                        "BOOKINGS_TABLE": aws.name("BookingsTable"), "EVENT_BUS_NAME": aws.name("EventBus")}.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_SESSION_TOKEN", raising=False)
    aws_clients.dynamodb.cache_clear()
    aws_clients.eventbridge.cache_clear()
    yield
    aws_clients.dynamodb.cache_clear()
    aws_clients.eventbridge.cache_clear()


def user_id(api: Any, token: str) -> str:
    return str(api.get("/me", token=token).json()["user_id"])


def save_card_in_browser(browser: Any, stack: Any, setup: dict[str, Any], card: str = "4242 4242 4242 4242", *,
                         three_d_secure: bool = False) -> str:
    """What the student does on the frontend's save-card form (the sandbox's page stands in for it), completing
    the card's 3-D Secure page when it asks for one."""
    context = browser.new_context()
    page = context.new_page()
    page.set_default_timeout(15_000)
    try:
        page.goto(f"{stack.stripe_url}/save_card?"
                  + urlencode({"client_secret": setup["client_secret"], "key": setup["publishable_key"]}))
        page.fill("#name", "Tia Tutee")
        page.fill("#card_number", card)
        page.fill("#exp", "12 / 34")
        page.fill("#cvc", "123")
        page.click("#save")
        if three_d_secure:
            page.wait_for_url("**/3ds/**")
            page.click("#complete")
        page.wait_for_url("**/save_card/result?**")
        page.wait_for_selector("#status[data-status=succeeded]")
        return str(page.inner_text("#payment_method"))
    finally:
        context.close()


def cards_of(api: Any, token: str) -> list[dict[str, Any]]:
    listed = api.get("/me/cards", token=token)
    assert listed.status_code == 200, listed.text
    return list(listed.json()["items"])


@pytest.mark.browser
def test_cards_saved_in_the_browser_are_listed_made_default_and_removed_only_by_their_owner(api, stack, student,
                                                                                           browser):
    token, other = student(), student()
    setup = api.post("/me/cards/setup", token=token)
    assert setup.status_code == 201, setup.text
    visa = save_card_in_browser(browser, stack, setup.json())
    second = api.post("/me/cards/setup", token=token).json()
    mastercard = confirm_card_setup(stack.stripe_url, second, "5555555555554444").payment_method
    theirs = confirm_card_setup(stack.stripe_url, api.post("/me/cards/setup", token=other).json()).payment_method

    assert sorted((c["payment_method_id"], c["brand"], c["last4"], c["default"]) for c in cards_of(api, token)) \
        == sorted([(visa, "visa", "4242", False), (mastercard, "mastercard", "4444", False)])
    made = api.post(f"/me/cards/{mastercard}/default", token=token)
    assert (made.status_code, made.json()["default"]) == (200, True)
    assert [c["payment_method_id"] for c in cards_of(api, token) if c["default"]] == [mastercard]

    for response in (api.post(f"/me/cards/{theirs}/default", token=token), api.delete(f"/me/cards/{theirs}",
                                                                                        token=token)):
        assert response.status_code == 404, response.text
    assert [c["payment_method_id"] for c in cards_of(api, other)] == [theirs]

    removed = api.delete(f"/me/cards/{mastercard}", token=token)
    assert removed.status_code == 204, removed.text
    assert [(c["payment_method_id"], c["default"]) for c in cards_of(api, token)] == [(visa, False)]


def pay(api: Any, token: str, booking_id: str, body: dict[str, Any]) -> Any:
    return api.post(f"/bookings/{booking_id}/pay", token=token, json=body)


def test_twenty_clicks_pay_once_and_completion_transfers_exactly_the_base(api, stack, student, lifecycle,
                                                                          stripe_client, eventually):
    token = student()
    teacher = f"teacher-{uuid.uuid4().hex[:8]}"
    account = teacher_account(stripe_client, teacher)
    bk = confirmed_booking(student=user_id(api, token), teacher=teacher)
    card = confirm_card_setup(stack.stripe_url, api.post("/me/cards/setup", token=token).json()).payment_method

    with ThreadPoolExecutor(max_workers=10) as pool:
        answers = list(pool.map(lambda _: pay(api, token, bk.booking_id, {"payment_method_id": card}), range(20)))
    assert {answer.status_code for answer in answers} == {201}, [a.text for a in answers if a.status_code != 201]
    assert len({answer.json()["payment_intent_id"] for answer in answers}) == 1
    intent_id = answers[0].json()["payment_intent_id"]
    charges = stripe_client.v1.charges.list(params={"payment_intent": intent_id}).data
    assert [(charge.status, charge.amount) for charge in charges] == [("succeeded", BASE + FEE)]
    paid = eventually(lambda: (b := booking(bk.booking_id)).payment_status == "paid" and b, timeout=30)
    assert paid.payment_intent_id == intent_id

    lifecycle_transition(bk.booking_id, ["confirmed"], {"status": "completed"}, "booking.completed")
    transfers = eventually(lambda: stripe_client.v1.transfers.list(
        params={"transfer_group": bk.booking_id}).data, timeout=30)
    assert [(t.amount, t.destination, t.source_transaction) for t in transfers] == [(BASE, account, charges[0].id)]
    assert eventually(lambda: booking(bk.booking_id).transfer_id, timeout=15) == transfers[0].id
    assert len(stripe_client.v1.payment_intents.search(
        params={"query": f"metadata['booking_id']:'{bk.booking_id}'"}).data) == 1


@pytest.mark.browser
def test_a_three_d_secure_card_is_authenticated_in_the_browser_and_pays(api, stack, student, lifecycle, browser,
                                                                       stripe_client, eventually):
    token = student()
    bk = confirmed_booking(student=user_id(api, token))
    setup = api.post("/me/cards/setup", token=token).json()
    # asks for 3-D Secure when saved and on every payment the student makes in session
    card = save_card_in_browser(browser, stack, setup, "4000 0025 0000 3155", three_d_secure=True)
    return_url = f"{str(stack.api_url).rstrip('/')}/bookings/{bk.booking_id}/paid"
    first = pay(api, token, bk.booking_id, {"payment_method_id": card, "return_url": return_url})
    assert (first.status_code, first.json()["status"]) == (201, "requires_action"), first.text
    action = first.json()["next_action"]
    assert action["type"] == "redirect_to_url"

    context = browser.new_context()
    page = context.new_page()
    page.set_default_timeout(15_000)
    try:
        page.goto(action["redirect_to_url"]["url"])
        with page.expect_navigation(url=lambda target: target.startswith(return_url)):
            page.click("#complete")
    finally:
        context.close()
    assert eventually(lambda: booking(bk.booking_id).payment_status == "paid", timeout=30)
    again = pay(api, token, bk.booking_id, {"payment_method_id": card})
    assert (again.json()["payment_intent_id"], again.json()["status"]) == (first.json()["payment_intent_id"],
                                                                           "succeeded")
    assert len(stripe_client.v1.charges.list(params={"payment_intent": again.json()["payment_intent_id"]}).data) == 1


@pytest.mark.parametrize(("cancelled_by", "hours_before_start", "refund"), [
    ("student", 72, BASE + FEE), ("student", 3, BASE // 2), ("teacher", 3, BASE + FEE)])
def test_a_cancellation_refunds_what_the_policy_says(api, stack, student, lifecycle, stripe_client, eventually,
                                                      cancelled_by, hours_before_start, refund):
    token = student()
    bk = confirmed_booking(student=user_id(api, token), start_in_hours=hours_before_start, due_in_hours=1)
    card = confirm_card_setup(stack.stripe_url, api.post("/me/cards/setup", token=token).json()).payment_method
    paid = pay(api, token, bk.booking_id, {"payment_method_id": card})
    assert (paid.status_code, paid.json()["status"]) == (201, "succeeded"), paid.text
    eventually(lambda: booking(bk.booking_id).payment_status == "paid", timeout=30)

    if cancelled_by == "student":  # through the lifecycle's route: its paid-cancellation hook is payments'
        cancelled = api.post(f"/bookings/{bk.booking_id}/cancel", token=token, json={"reason": "changed plans"})
        assert (cancelled.status_code, cancelled.json()["cancelled_by"]) == (200, "student"), cancelled.text
    else:  # the booking's teacher is a stand-in without an account: its cancellation as the lifecycle writes it
        lifecycle_transition(bk.booking_id, ["confirmed"], {"status": "cancelled", "cancelled_by": cancelled_by,
                                                            "cancelled_at": booking(bk.booking_id).updated_at},
                             "booking.cancelled")
    refunded = eventually(lambda: (b := booking(bk.booking_id)).refunded_amount and b, timeout=30)
    assert (refunded.refunded_amount, refunded.payment_status) == \
        (refund, "refunded" if refund == BASE + FEE else "partially_refunded")
    refunds = stripe_client.v1.refunds.list(params={"payment_intent": paid.json()["payment_intent_id"]}).data
    assert [r.amount for r in refunds] == [refund]


def wednesday_in_berlin(hour: int, weeks_ahead: int) -> str:
    """A Wednesday slot of the demo gig, ``weeks_ahead`` weeks out (clear of the lifecycle test's slots)."""
    berlin = ZoneInfo("Europe/Berlin")
    day = datetime.now(UTC).astimezone(berlin).date() + timedelta(days=2 + 7 * weeks_ahead)
    day += timedelta(days=(2 - day.weekday()) % 7)
    return datetime.combine(day, datetime.min.time().replace(hour=hour), berlin).astimezone(UTC).strftime(
        "%Y-%m-%dT%H:%M:%SZ")


def test_booked_confirmed_paid_auto_completed_and_the_tutor_receives_the_base(api, stack, login, stripe_client,
                                                                              outbox, eventually):
    """The whole path through the routes, every Stripe event delivered twice: request, the tutor confirms, twenty
    clicks pay, both get the meeting link and invite by e-mail (once each), the scheduler completes the booking
    after its end, the tutor's connected account receives exactly the base, once."""
    chaos = f"{stack.stripe_url}/_sandbox/chaos"
    requests.post(chaos, json={"duplicate": True}, timeout=10).raise_for_status()
    try:
        _booked_paid_and_completed(api, stack, login, stripe_client, outbox, eventually)
    finally:
        requests.post(chaos, json={"duplicate": False}, timeout=10)


def _mails(outbox: Callable[[], list[dict[str, Any]]], address: str, subject_start: str) -> list[dict[str, Any]]:
    return [m for m in outbox() if m["to"] == [address] and m["subject"].startswith(subject_start)]


def _booked_paid_and_completed(api, stack, login, stripe_client, outbox, eventually) -> None:
    tutor = login("tutor@coursepay.local")["access_token"]
    student = login("student@coursepay.local")["access_token"]
    tutor_id = api.get("/me", token=tutor).json()["user_id"]
    gig = next(g for g in api.get("/gigs", params={"teacher_id": tutor_id}).json()["items"]
               if g["title"] == "Algebra, step by step")
    requested = api.post("/bookings", token=student, json={"gig_id": gig["gig_id"], "duration_minutes": 60,
                                                           "start": wednesday_in_berlin(16, weeks_ahead=3)})
    assert requested.status_code == 201, requested.text
    booking_id = requested.json()["booking_id"]
    assert api.post(f"/bookings/{booking_id}/confirm", token=tutor).json()["status"] == "confirmed"

    card = confirm_card_setup(stack.stripe_url, api.post("/me/cards/setup", token=student).json()).payment_method
    with ThreadPoolExecutor(max_workers=10) as pool:
        answers = list(pool.map(lambda _: pay(api, student, booking_id, {"payment_method_id": card}), range(20)))
    assert len({(a.status_code, a.json()["payment_intent_id"]) for a in answers}) == 1, answers[0].text
    paid = eventually(lambda: (b := api.get(f"/bookings/{booking_id}", token=student).json())["payment_status"]
                      == "paid" and b, timeout=30)
    base = paid["base_amount"]
    assert (base, paid["total_amount"]) == (5000, 5250)
    meeting = eventually(lambda: api.get(f"/bookings/{booking_id}", token=tutor).json()["meeting"], timeout=30)
    for address in ("student@coursepay.local", "tutor@coursepay.local"):
        [mail] = eventually(lambda a=address: [m for m in _mails(outbox, a, "Your session link: ")
                                                 if meeting["join_url"] in m["body"]], timeout=30)
        assert [a["filename"] for a in mail["attachments"]] == ["invite.ics"]
    eventually(lambda: [m for m in _mails(outbox, "student@coursepay.local", "Your receipt for ")
                        if paid["payment_intent_id"] in m["body"]], timeout=30)

    response = api.post("/_local/schedules/BookingsSchedulerFunction/run", params={"at": paid["auto_complete_at"]},
                        timeout=60)
    assert response.status_code == 200, response.text
    assert eventually(lambda: api.get(f"/bookings/{booking_id}", token=student).json()["status"] == "completed")
    account = api.get("/teacher/payouts", token=tutor).json()["account_id"]
    transfers = eventually(lambda: stripe_client.v1.transfers.list(params={"transfer_group": booking_id}).data,
                           timeout=30)
    assert [(t.amount, t.destination) for t in transfers] == [(base, account)]
    charges = stripe_client.v1.charges.list(params={"transfer_group": booking_id}).data
    assert [(c.amount, c.id) for c in charges] == [(5250, transfers[0].source_transaction)]
    requests.post(f"{stack.stripe_url}/_sandbox/webhooks/flush", json={"timeout": 10}, timeout=15)
    # the demo users get mail about other tests' bookings too: these are this booking's (its link, its payment)
    for address, subject, mark in (("student@coursepay.local", "Your session link: ", meeting["join_url"]),
                                   ("tutor@coursepay.local", "Your session link: ", meeting["join_url"]),
                                   ("student@coursepay.local", "Your receipt for ", paid["payment_intent_id"])):
        assert len([m for m in _mails(outbox, address, subject) if mark in m["body"]]) == 1, (address, subject)

