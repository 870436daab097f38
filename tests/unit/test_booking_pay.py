"""Paying a booking (booking payments function + the bookings kind in the fulfilment consumer): saved card, hosted
page, 3-D Secure, failures, twenty clicks; the teacher's transfer on completion; cancellation refunds and transfer
reversal. moto + the Stripe sandbox in-process."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta

import pytest

from coursepay.clock import iso_time
from coursepay.settings import load_settings
from tests.support.api_events import body_of, claims_for, http_event
from tests.support.booking_payments import (
    BASE,
    FEE,
    STUDENT,
    TEACHER,
    booking,
    confirmed_booking,
    consume_fulfilment_queue,
    lifecycle_transition,
    published,
    redeliver,
    teacher_account,
)
from tests.support.course_market import ORIGIN, OTHER_STUDENT, Market, running_sandbox
from tests.support.saved_cards import confirm_card_setup

TOTAL = BASE + FEE


def shifted(moment: str, hours: int) -> str:
    return iso_time(datetime.fromisoformat(moment) + timedelta(hours=hours))


class Tutoring:
    def __init__(self, market: Market, module, aws) -> None:
        self.market = market
        self.module = module
        self.aws = aws
        self.fulfilment = __import__("functions.fulfilment.app", fromlist=["app"])

    def call(self, method, path, *, route=None, user=STUDENT, body=None):
        event = http_event(method, path, route=route, body=body,
                           claims=claims_for(user, "students") if user else None)
        response = self.module.lambda_handler(event, self.market.context)
        return response["statusCode"], body_of(response)

    def save_card(self, card="4242424242424242", user=STUDENT) -> str:
        status, setup = self.call("POST", "/me/cards/setup", user=user)
        assert status == 201, setup
        intent = confirm_card_setup(self.market.sandbox.url, setup, card)
        if intent.status == "requires_action":
            self.market.sandbox_post(f"/_sandbox/setup_intents/{intent.id}/three_d_secure", {"result": "succeed"})
            intent = self.market.stripe().v1.setup_intents.retrieve(intent.id)
        return str(intent.payment_method)

    def pay(self, booking_id, body, user=STUDENT):
        return self.call("POST", f"/bookings/{booking_id}/pay", route="/bookings/{bookingId}/pay", user=user,
                         body=body)

    def deliver_stripe_events(self, seen: set[str]):
        """Stripe's new events through the fulfilment consumer; the booking events it publishes are left on the
        bus's queues."""
        return self.market.deliver_new(seen)

    def charges(self, booking_id):
        return self.market.stripe().v1.charges.list(params={"transfer_group": booking_id}).data


@pytest.fixture
def tutoring(load_function, monkeypatch, lambda_context, aws):
    with running_sandbox() as sandbox:
        market = Market(load_function, monkeypatch, sandbox, lambda_context)
        module = load_function("BookingPaymentsFunction", "booking_payments")
        monkeypatch.setenv("STRIPE_API_BASE", sandbox.url)
        load_settings.cache_clear()
        yield Tutoring(market, module, aws)


def paid_booking(tutoring, seen):
    bk = confirmed_booking(teacher=TEACHER)
    status, view = tutoring.pay(bk.booking_id, {"payment_method_id": tutoring.save_card()})
    assert (status, view["status"]) == (201, "succeeded"), view
    tutoring.deliver_stripe_events(seen)
    return booking(bk.booking_id)


def test_twenty_clicks_on_pay_make_one_payment_intent_one_charge_and_the_booking_paid(tutoring) -> None:
    seen: set[str] = set()
    bk = confirmed_booking()
    card = tutoring.save_card()
    with ThreadPoolExecutor(max_workers=8) as pool:
        answers = list(pool.map(lambda _: tutoring.pay(bk.booking_id, {"payment_method_id": card}), range(20)))
    assert {status for status, _ in answers} == {201}
    assert len({view["payment_intent_id"] for _, view in answers}) == 1
    intent_id = answers[0][1]["payment_intent_id"]
    intent = tutoring.market.stripe().v1.payment_intents.retrieve(intent_id)
    assert (intent.amount, intent.currency, intent.transfer_group, intent.metadata["kind"]) == \
        (TOTAL, "usd", bk.booking_id, "booking")
    assert [charge.status for charge in tutoring.charges(bk.booking_id)] == ["succeeded"]

    tutoring.deliver_stripe_events(seen)
    tutoring.market.deliver(tutoring.market.events("payment_intent.succeeded"))  # a replayed webhook
    paid = booking(bk.booking_id)
    assert (paid.status, paid.payment_status, paid.payment_intent_id) == ("confirmed", "paid", intent_id)
    assert (paid.remind_at, paid.auto_complete_at) == (shifted(paid.start, -24), shifted(paid.end, 48))
    assert [e["id"] for e in published(tutoring.aws, "booking.paid")] == [f"ev_booking_{bk.booking_id}_booking.paid"]
    assert tutoring.pay(bk.booking_id, {"payment_method_id": card})[1]["payment_intent_id"] == intent_id


def test_three_d_secure_answers_requires_action_then_the_booking_is_paid(tutoring) -> None:
    seen: set[str] = set()
    bk = confirmed_booking()
    card = tutoring.save_card("4000002760003184")  # 3-D Secure on every payment
    status, view = tutoring.pay(bk.booking_id, {"payment_method_id": card, "return_url": f"{ORIGIN}/paid"})
    assert (status, view["status"]) == (201, "requires_action"), view
    assert view["next_action"]["type"] == "redirect_to_url"
    assert view["client_secret"].startswith(view["payment_intent_id"])
    again = tutoring.pay(bk.booking_id, {"payment_method_id": card})[1]
    assert (again["payment_intent_id"], again["status"]) == (view["payment_intent_id"], "requires_action")
    tutoring.deliver_stripe_events(seen)
    assert booking(bk.booking_id).payment_status == "unpaid"

    tutoring.market.sandbox_post(f"/_sandbox/payment_intents/{view['payment_intent_id']}/three_d_secure",
                                 {"result": "succeed"})
    tutoring.deliver_stripe_events(seen)
    assert booking(bk.booking_id).payment_status == "paid"
    assert len(tutoring.charges(bk.booking_id)) == 1


def test_a_declined_card_keeps_the_booking_payable_and_another_card_pays_it(tutoring) -> None:
    seen: set[str] = set()
    bk = confirmed_booking()
    status, body = tutoring.pay(bk.booking_id, {"payment_method_id": tutoring.save_card("4000000000000341")})
    assert status == 402, body
    tutoring.deliver_stripe_events(seen)
    assert (booking(bk.booking_id).status, booking(bk.booking_id).payment_status) == ("confirmed", "failed")
    assert len(published(tutoring.aws, "booking.payment_failed")) == 1

    status, view = tutoring.pay(bk.booking_id, {"payment_method_id": tutoring.save_card()})
    assert (status, view["status"]) == (201, "succeeded")
    tutoring.deliver_stripe_events(seen)
    tutoring.market.deliver(tutoring.market.events("payment_intent.payment_failed"))  # a late replay of the failure
    assert booking(bk.booking_id).payment_status == "paid"
    assert sorted(charge.status for charge in tutoring.charges(bk.booking_id)) == ["failed", "succeeded"]


def test_the_hosted_page_pays_the_booking_and_can_save_the_card(tutoring) -> None:
    seen: set[str] = set()
    bk = confirmed_booking()
    status, view = tutoring.pay(bk.booking_id, {"hosted": True, "save_card": True,
                                                "success_url": f"{ORIGIN}/paid", "cancel_url": f"{ORIGIN}/booking"})
    assert status == 201, view
    assert set(view) == {"checkout_url", "session_id"}
    again = tutoring.pay(bk.booking_id, {"hosted": True, "save_card": True, "success_url": f"{ORIGIN}/paid",
                                         "cancel_url": f"{ORIGIN}/booking"})[1]
    assert again["session_id"] == view["session_id"]
    tutoring.market.pay(view["session_id"])
    tutoring.deliver_stripe_events(seen)
    paid = booking(bk.booking_id)
    assert (paid.payment_status, paid.payment_id) == ("paid", view["session_id"])
    intent = tutoring.market.stripe().v1.payment_intents.retrieve(paid.payment_intent_id)
    assert (intent.amount, intent.transfer_group) == (TOTAL, bk.booking_id)
    assert [card["last4"] for card in tutoring.call("GET", "/me/cards")[1]["items"]] == ["4242"]


@pytest.mark.parametrize("body", [{}, {"payment_method_id": "pm_x", "hosted": True}, {"hosted": True},
                                  {"payment_method_id": "pm_x", "amount": 1}, {"payment_method_id": "pm_x",
                                                                              "save_card": True}])
def test_a_pay_request_is_one_of_the_two_ways(tutoring, body) -> None:
    status, answer = tutoring.pay(confirmed_booking().booking_id, body)
    assert status == 400, answer


def test_only_the_students_own_confirmed_booking_before_its_deadline(tutoring) -> None:
    card = tutoring.save_card()
    assert tutoring.pay(confirmed_booking(student=OTHER_STUDENT).booking_id, {"payment_method_id": card})[0] == 404
    assert tutoring.pay("bk_doesnotexist", {"payment_method_id": card})[0] == 404
    late = confirmed_booking(due_in_hours=-1)
    status, body = tutoring.pay(late.booking_id, {"payment_method_id": card})
    assert (status, body["error"]["code"]) == (409, "payment_deadline_passed")
    other_card = tutoring.save_card(user=OTHER_STUDENT)
    assert tutoring.pay(confirmed_booking().booking_id, {"payment_method_id": other_card})[0] == 404
    assert tutoring.pay(confirmed_booking().booking_id, {"payment_method_id": card}, user=None)[0] == 401


def test_completion_transfers_exactly_the_base_to_the_teacher_once(tutoring) -> None:
    seen: set[str] = set()
    account = teacher_account(tutoring.market.stripe())
    paid = paid_booking(tutoring, seen)
    lifecycle_transition(paid.booking_id, ["confirmed"], {"status": "completed"}, "booking.completed")
    assert consume_fulfilment_queue(tutoring.aws, tutoring.fulfilment, tutoring.market.context) == \
        {"batchItemFailures": []}
    redeliver(paid.booking_id, "booking.completed")  # transfers nothing more
    consume_fulfilment_queue(tutoring.aws, tutoring.fulfilment, tutoring.market.context)

    transfers = tutoring.market.stripe().v1.transfers.list(params={"transfer_group": paid.booking_id}).data
    assert [(t.amount, t.destination) for t in transfers] == [(BASE, account)]
    assert transfers[0].source_transaction == tutoring.charges(paid.booking_id)[0].id
    assert booking(paid.booking_id).transfer_id == transfers[0].id


@pytest.mark.parametrize(("by", "hours_before_start", "refund"), [
    ("student", 72, TOTAL), ("student", 2, BASE // 2), ("teacher", 2, TOTAL), ("admin", 2, TOTAL)])
def test_a_cancellation_refunds_what_the_policy_says(tutoring, by, hours_before_start, refund) -> None:
    seen: set[str] = set()
    bk = confirmed_booking(start_in_hours=hours_before_start, due_in_hours=1)
    status, view = tutoring.pay(bk.booking_id, {"payment_method_id": tutoring.save_card()})
    assert status == 201, view
    tutoring.deliver_stripe_events(seen)
    lifecycle_transition(bk.booking_id, ["confirmed"], {"status": "cancelled", "cancelled_by": by,
                                                        "cancelled_at": booking(bk.booking_id).updated_at},
                         "booking.cancelled")
    consume_fulfilment_queue(tutoring.aws, tutoring.fulfilment, tutoring.market.context)
    redeliver(bk.booking_id, "booking.cancelled")  # refunds nothing more
    consume_fulfilment_queue(tutoring.aws, tutoring.fulfilment, tutoring.market.context)
    tutoring.deliver_stripe_events(seen)
    refunds = tutoring.market.stripe().v1.refunds.list(params={"payment_intent": view["payment_intent_id"]}).data
    assert [r.amount for r in refunds] == [refund]
    cancelled = booking(bk.booking_id)
    assert (cancelled.refunded_amount, cancelled.payment_status) == \
        (refund, "refunded" if refund == TOTAL else "partially_refunded")
    assert [e["data"]["refund_amount"] for e in published(tutoring.aws, "booking.refunded")] == [refund]


def transferred_booking(tutoring, seen):
    """A paid booking the lifecycle completed, its base transferred to the teacher."""
    teacher_account(tutoring.market.stripe())
    paid = paid_booking(tutoring, seen)
    lifecycle_transition(paid.booking_id, ["confirmed"], {"status": "completed"}, "booking.completed")
    consume_fulfilment_queue(tutoring.aws, tutoring.fulfilment, tutoring.market.context)
    assert booking(paid.booking_id).transfer_id is not None
    return paid


def test_a_refund_after_the_transfer_reverses_it(tutoring) -> None:
    seen: set[str] = set()
    paid = transferred_booking(tutoring, seen)
    transfer_id = booking(paid.booking_id).transfer_id
    tutoring.market.stripe().v1.refunds.create(params={"payment_intent": paid.payment_intent_id})  # an admin's
    tutoring.deliver_stripe_events(seen)
    tutoring.market.deliver(tutoring.market.events("charge.refunded"))  # replayed
    transfer = tutoring.market.stripe().v1.transfers.retrieve(transfer_id)
    assert (transfer.amount_reversed, transfer.reversed) == (BASE, True)
    assert len(tutoring.market.stripe().v1.transfers.reversals.list(transfer_id).data) == 1
    assert (booking(paid.booking_id).transfer_reversed, booking(paid.booking_id).payment_status) == (True, "refunded")


def test_a_dispute_after_the_transfer_reverses_it(tutoring) -> None:
    seen: set[str] = set()
    paid = transferred_booking(tutoring, seen)
    charge = tutoring.charges(paid.booking_id)[0]
    tutoring.market.sandbox_post(f"/_sandbox/charges/{charge.id}/dispute", {"reason": "fraudulent"})
    tutoring.deliver_stripe_events(seen)
    transfer = tutoring.market.stripe().v1.transfers.retrieve(booking(paid.booking_id).transfer_id)
    assert transfer.amount_reversed == BASE
    assert booking(paid.booking_id).transfer_reversed is True


def test_a_student_cancels_a_paid_booking_through_the_lifecycle_route_and_gets_the_policy_refund(
        tutoring, load_function, monkeypatch):
    seen: set[str] = set()
    bk = confirmed_booking(start_in_hours=3, due_in_hours=1)  # late: half the base
    status, view = tutoring.pay(bk.booking_id, {"payment_method_id": tutoring.save_card()})
    assert status == 201, view
    tutoring.deliver_stripe_events(seen)
    lifecycle_api = load_function("BookingsFunction", "bookings")
    monkeypatch.setenv("STRIPE_API_BASE", tutoring.market.sandbox.url)  # the template's value is set again
    load_settings.cache_clear()
    response = lifecycle_api.lambda_handler(http_event(
        "POST", f"/bookings/{bk.booking_id}/cancel", route="/bookings/{bookingId}/cancel", body={},
        claims=claims_for(STUDENT, "students")), tutoring.market.context)
    assert response["statusCode"] == 200, response["body"]
    assert body_of(response)["status"] == "cancelled"
    consume_fulfilment_queue(tutoring.aws, tutoring.fulfilment, tutoring.market.context)
    refunds = tutoring.market.stripe().v1.refunds.list(params={"payment_intent": view["payment_intent_id"]}).data
    assert [r.amount for r in refunds] == [(BASE * 50 + 50) // 100]


def test_an_admin_cancels_a_completed_session_refunding_all_and_reversing_the_transfer(
        tutoring, load_function, monkeypatch):
    seen: set[str] = set()
    paid = transferred_booking(tutoring, seen)
    lifecycle_api = load_function("BookingsFunction", "bookings")
    monkeypatch.setenv("STRIPE_API_BASE", tutoring.market.sandbox.url)
    load_settings.cache_clear()

    def cancel(user: str, group: str) -> dict:
        return lifecycle_api.lambda_handler(http_event(
            "POST", f"/bookings/{paid.booking_id}/cancel", route="/bookings/{bookingId}/cancel", body={},
            claims=claims_for(user, group)), tutoring.market.context)

    refused = cancel(STUDENT, "students")
    assert (refused["statusCode"], body_of(refused)["error"]["code"]) == (409, "completed")
    response = cancel("admin-1", "admins")
    assert response["statusCode"] == 200, response["body"]
    assert (body_of(response)["status"], body_of(response)["cancelled_by"]) == ("cancelled", "admin")
    consume_fulfilment_queue(tutoring.aws, tutoring.fulfilment, tutoring.market.context)
    tutoring.deliver_stripe_events(seen)
    refunds = tutoring.market.stripe().v1.refunds.list(params={"payment_intent": paid.payment_intent_id}).data
    assert [r.amount for r in refunds] == [paid.total_amount]
    transfer = tutoring.market.stripe().v1.transfers.retrieve(booking(paid.booking_id).transfer_id)
    assert transfer.amount_reversed == BASE
