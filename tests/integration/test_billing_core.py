"""The billing core end to end (issue 8, "Done when"), for courses and tracks each, through the local stack and the
Stripe sandbox only: refunds and what they do to access, one payable session however many checkouts race, a paid
old session refunded as a duplicate, a refund that arrives before its completion, disputes, a declined card."""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import pytest
import requests

from tests.support.billing_stack import (
    DECLINED_CARD,
    DISPUTED_CARD,
    Buyer,
    audit_actions,
    course_access,
    course_checkout,
    create_course,
    deliver,
    deliveries_lost,
    flush,
    my_track,
    origin,
    parked_events,
    pay,
    payment_record,
    payment_view,
    register,
    stripe_event,
    track_checkout,
    waiting_in,
)

TEACHER = "teacher@coursepay.local"
ADMIN = "admin@coursepay.local"
DLQ_WINDOW_SECONDS = 7  # MaxReceiveCount 3 with the stack's short visibility timeout: redriven after ~6 s


@dataclass
class Product:
    """One thing a buyer can buy by Checkout Session, and what access to it looks like, for either kind."""

    kind: str
    item_id: str
    api: Any
    stack: Any

    def checkout(self, buyer: Buyer, success_path: str = "/done") -> requests.Response:
        if self.kind == "course":
            return course_checkout(self.api, self.stack, buyer.token, self.item_id, success_path=success_path)
        return track_checkout(self.api, self.stack, buyer.token, self.item_id, success_path=success_path)

    def access(self, buyer: Buyer) -> tuple[bool, str | None]:
        """(has access, enrollment status) as the buyer's own API says."""
        if self.kind == "course":
            seen = course_access(self.api, buyer.token, self.item_id)
            return bool(seen["has_access"]), seen["status"]
        track = my_track(self.api, buyer.token, self.item_id)
        return (bool(track["has_access"]), track["status"]) if track else (False, None)


@pytest.fixture(scope="module")
def teacher(login: Callable[..., dict[str, Any]]) -> str:
    return str(login(TEACHER)["access_token"])


@pytest.fixture(scope="module")
def admin(login: Callable[..., dict[str, Any]]) -> str:
    return str(login(ADMIN)["access_token"])


@pytest.fixture
def buyer(api: Any, stack: Any, login: Callable[..., dict[str, Any]]) -> Buyer:
    return register(api, stack, login)


@pytest.fixture(params=["course", "track"])
def product(request: pytest.FixtureRequest, api: Any, stack: Any, teacher: str) -> Product:
    item_id = create_course(api, teacher) if request.param == "course" else "FSD"
    return Product(kind=request.param, item_id=item_id, api=api, stack=stack)


def bought(product: Product, buyer: Buyer, eventually: Callable[..., Any], card: str = "4242424242424242"
           ) -> tuple[str, str]:
    """A paid Checkout Session of ``product``: (session id = payment id, PaymentIntent id), fulfilled."""
    started = product.checkout(buyer)
    assert started.status_code == 201, started.text
    session_id = started.json()["session_id"]
    paid = pay(product.stack, session_id, card)
    assert paid["outcome"] == "complete", paid
    eventually(lambda: payment_view(product.api, buyer.token, session_id)["status"] == "succeeded")
    return session_id, str(paid["payment_intent"])


# ------------------------------------------------------------------------------------------------ refunds
def test_a_partial_refund_keeps_access_a_full_one_ends_it_and_the_next_approval_is_refused(
        api, stack, product, buyer, admin, stripe_client, eventually):
    payment_id, intent_id = bought(product, buyer, eventually)
    assert eventually(lambda: product.access(buyer) == (True, "active"))
    amount = payment_view(api, buyer.token, payment_id)["amount"]

    # partial, approved by an admin: the payment says so, access stays
    asked = api.post(f"/payments/{payment_id}/refund-requests", token=buyer.token, json={"reason": "too fast"})
    assert asked.status_code == 201, asked.text
    approved = api.post(f"/admin/refund-requests/{asked.json()['request_id']}/approve", token=admin,
                        json={"amount": 2500})
    assert approved.status_code == 200, approved.text
    partial = eventually(lambda: (p := payment_view(api, buyer.token, payment_id))["status"] == "partially_refunded"
                         and p)
    assert partial["refunded_amount"] == 2500
    assert product.access(buyer) == (True, "active")

    # the rest, refunded directly in Stripe while another request waits: refunded, access ends
    waiting = api.post(f"/payments/{payment_id}/refund-requests", token=buyer.token, json={"reason": "all of it"})
    assert waiting.status_code == 201, waiting.text
    stripe_client.v1.refunds.create(params={"payment_intent": intent_id})
    refunded = eventually(lambda: (p := payment_view(api, buyer.token, payment_id))["status"] == "refunded" and p)
    assert refunded["refunded_amount"] == amount
    assert eventually(lambda: product.access(buyer) == (False, "withdrawn"))

    # nothing is left: the waiting approval and any new request are refused cleanly
    late = api.post(f"/admin/refund-requests/{waiting.json()['request_id']}/approve", token=admin, json={})
    assert late.status_code == 409, late.text
    again = api.post(f"/payments/{payment_id}/refund-requests", token=buyer.token, json={"reason": "more"})
    assert again.status_code == 409, again.text
    assert sum(r.amount for r in stripe_client.v1.refunds.list(params={"payment_intent": intent_id}).data) == amount


# ------------------------------------------------------------------------------------------------ one session
@pytest.mark.parametrize("concurrent", [2, 20])
def test_concurrent_checkouts_make_one_payable_session(api, stack, product, buyer, stripe_client, concurrent):
    with ThreadPoolExecutor(max_workers=concurrent) as pool:
        answers = list(pool.map(lambda _: product.checkout(buyer), range(concurrent)))
    assert {a.status_code for a in answers} == {201}, [a.text for a in answers if a.status_code != 201]
    [session_id] = {a.json()["session_id"] for a in answers}
    customer = stripe_client.v1.checkout.sessions.retrieve(session_id).customer
    open_sessions = stripe_client.v1.checkout.sessions.list(params={"customer": customer, "status": "open"}).data
    assert [s.id for s in open_sessions] == [session_id]

    # a changed request (another success page on an allowed origin): the old session expires first
    changed = product.checkout(buyer, success_path="/elsewhere")
    assert changed.status_code == 201, changed.text
    new_id = changed.json()["session_id"]
    assert new_id != session_id
    assert stripe_client.v1.checkout.sessions.retrieve(session_id).status == "expired"
    open_sessions = stripe_client.v1.checkout.sessions.list(params={"customer": customer, "status": "open"}).data
    assert [s.id for s in open_sessions] == [new_id]
    assert stripe_client.v1.checkout.sessions.retrieve(new_id).success_url.startswith(f"{origin(stack)}/elsewhere")
    assert product.checkout(buyer, success_path="/elsewhere").json()["session_id"] == new_id


# ------------------------------------------------------------------------------------------------ duplicates
def paid_as_duplicate(stack: Any, aws: Any, stripe_client: Any, eventually: Callable[..., Any], session_id: str,
                      *, owned_through: str, amount: int) -> None:
    """Pay an old session of something the buyer owns: refunded in full at Stripe, marked and audited."""
    pay(stack, session_id)
    duplicate = eventually(lambda: (p := payment_record(aws, session_id))["status"] == "refunded" and p)
    assert duplicate["duplicate_of"] == owned_through
    assert "payment.duplicate_purchase" in audit_actions(aws, f"payment#{session_id}")
    [refund] = stripe_client.v1.refunds.list(params={"payment_intent": duplicate["stripe_payment_intent_id"]}).data
    assert (refund.amount, refund.reason) == (amount, "duplicate")
    flush(stack)


def test_an_old_course_session_paid_after_the_course_is_owned_is_refunded_and_audited(
        api, stack, aws, teacher, buyer, stripe_client, eventually):
    course_id = create_course(api, teacher)
    one_time = course_checkout(api, stack, buyer.token, course_id, "one_time")
    monthly = course_checkout(api, stack, buyer.token, course_id, "monthly")
    assert (one_time.status_code, monthly.status_code) == (201, 201), (one_time.text, monthly.text)
    pay(stack, monthly.json()["session_id"])
    eventually(lambda: course_access(api, buyer.token, course_id)["reason"] == "subscription")
    subscription_id = stripe_client.v1.checkout.sessions.retrieve(monthly.json()["session_id"]).subscription

    paid_as_duplicate(stack, aws, stripe_client, eventually, one_time.json()["session_id"],
                      owned_through=subscription_id, amount=9900)
    seen = course_access(api, buyer.token, course_id)
    assert (seen["has_access"], seen["reason"]) == (True, "subscription")
    live = stripe_client.v1.subscriptions.retrieve(subscription_id)
    assert live.status == "active"


def test_a_track_session_paid_after_enrollment_is_refunded_and_audited(api, stack, buyer, stripe_client, aws,
                                                                        eventually):
    session = track_checkout(api, stack, buyer.token, "DP")
    assert session.status_code == 201, session.text
    intent = api.post("/tracks/DP/payment-intents", token=buyer.token).json()["payment_intent_id"]
    stripe_client.v1.payment_intents.confirm(intent, params={"payment_method": "pm_card_visa"})
    eventually(lambda: (t := my_track(api, buyer.token, "DP")) and t["payment_id"] == intent)

    paid_as_duplicate(stack, aws, stripe_client, eventually, session.json()["session_id"], owned_through=intent,
                      amount=49900)
    track = my_track(api, buyer.token, "DP")
    assert (track["status"], track["has_access"], track["payment_id"]) == ("active", True, intent)
    assert payment_view(api, buyer.token, intent)["status"] == "succeeded"


# ------------------------------------------------------------------------------------------------ out of order
def test_a_refund_delivered_before_its_completion_ends_withdrawn_after_any_gap(
        api, stack, aws, product, buyer, stripe_client, eventually):
    with deliveries_lost(stack):
        started = product.checkout(buyer)
        assert started.status_code == 201, started.text
        session_id = started.json()["session_id"]
        intent_id = pay(stack, session_id)["payment_intent"]
        stripe_client.v1.refunds.create(params={"payment_intent": intent_id})
    refund = stripe_event(stripe_client, "charge.refunded", payment_intent=intent_id)
    completion = stripe_event(stripe_client, "checkout.session.completed", id=session_id)

    assert deliver(api, stack, refund)["outcome"] not in ("duplicate", "ignored")
    eventually(lambda: parked_events(aws, intent_id) == ["charge.refunded"])
    time.sleep(DLQ_WINDOW_SECONDS)  # longer than the queue would retry a refund it cannot apply
    assert parked_events(aws, intent_id) == ["charge.refunded"]
    assert waiting_in(aws, "FulfilmentDLQ") == 0

    assert deliver(api, stack, completion)["outcome"] not in ("duplicate", "ignored")
    eventually(lambda: payment_view(api, buyer.token, session_id)["status"] == "refunded")
    eventually(lambda: not parked_events(aws, intent_id))
    eventually(lambda: waiting_in(aws, "FulfilmentQueue") == 0)
    has_access, _ = product.access(buyer)
    assert has_access is False
    assert waiting_in(aws, "FulfilmentDLQ") == 0


# ------------------------------------------------------------------------------------------------ disputes
@pytest.mark.parametrize(("outcome", "afterwards"), [("won", (True, "active")), ("lost", (False, "withdrawn"))])
def test_a_dispute_suspends_access_and_its_outcome_restores_or_withdraws_it(api, stack, product, buyer,
                                                                           stripe_client, eventually, outcome,
                                                                           afterwards):
    payment_id, intent_id = bought(product, buyer, eventually, card=DISPUTED_CARD)
    assert eventually(lambda: product.access(buyer) == (False, "suspended"))
    [dispute] = stripe_client.v1.disputes.list(params={"payment_intent": intent_id}).data

    resolved = requests.post(f"{stack.stripe_url}/_sandbox/disputes/{dispute.id}/resolve", json={"outcome": outcome},
                             timeout=30)
    assert resolved.status_code == 200, resolved.text
    assert eventually(lambda: product.access(buyer) == afterwards)
    assert payment_view(api, buyer.token, payment_id)["status"] == "succeeded"  # a dispute is not a refund


# ------------------------------------------------------------------------------------------------ declines
@pytest.mark.browser
def test_a_declined_course_payment_names_the_decline(api, stack, teacher, buyer, browser, eventually):
    course_id = create_course(api, teacher)
    session = course_checkout(api, stack, buyer.token, course_id).json()
    page = browser.new_page()
    page.set_default_timeout(15_000)
    try:
        page.goto(session["url"])
        page.fill("#name", "Declined Buyer")
        page.fill("#card_number", DECLINED_CARD)
        page.fill("#exp", "12/34")
        page.fill("#cvc", "123")
        page.click("#pay")
        assert "declined" in page.inner_text("#error").lower()
    finally:
        page.close()
    failed = eventually(lambda: (p := payment_view(api, buyer.token, session["session_id"]))["status"] == "failed"
                        and p)
    assert failed["failure_reason"].startswith("generic_decline: ")
    assert "declined" in failed["failure_reason"]
    assert course_access(api, buyer.token, course_id)["has_access"] is False
