"""The billing core's one PaymentIntent path (coursepay.billing.intents): one intent per purchase whatever the
clicks, one charge per confirmed attempt. moto + the Stripe sandbox in-process."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest
import stripe

from coursepay.billing.core import BillingCore
from coursepay.billing.intents import IntentBuyer, IntentOffer
from coursepay.errors import PaymentDeclined
from tests.support.course_market import running_sandbox

CLICKS = 20


@pytest.fixture
def sandbox():
    with running_sandbox() as server:
        yield server


@pytest.fixture
def stripe_client(sandbox):
    return stripe.StripeClient("sk_test_unit", base_addresses={"api": sandbox.url})


@pytest.fixture
def core(aws, stripe_client):
    return BillingCore(payments_table=aws.name("PaymentsTable"), enrollments_table=aws.name("EnrollmentsTable"),
                       audit_table=aws.name("AuditTable"), event_bus_name=None, stripe_client=lambda: stripe_client)


@pytest.fixture
def buyer(stripe_client):
    customer = stripe_client.v1.customers.create(params={"email": "student@example.com"})
    return IntentBuyer(user_id="student-1", customer_id=customer.id)


def offer(amount: int = 7875) -> IntentOffer:
    return IntentOffer(kind="booking", item_id="bk_1", name="Algebra, 90 minutes", amount=amount, currency="usd",
                       metadata={"booking_id": "bk_1"},
                       params={"payment_method_types": ["card"], "transfer_group": "bk_1"})


def saved_card(stripe_client, buyer, pm: str = "pm_card_visa") -> str:
    return str(stripe_client.v1.payment_methods.attach(pm, params={"customer": buyer.customer_id}).id)


def test_twenty_concurrent_clicks_open_and_confirm_one_intent_with_one_charge(core, buyer, stripe_client) -> None:
    card = saved_card(stripe_client, buyer)

    def click(_: int) -> str:
        opened = core.intents.open(buyer, offer())
        return str(core.intents.confirm(opened.intent, card).id)

    with ThreadPoolExecutor(max_workers=8) as pool:
        intent_ids = set(pool.map(click, range(CLICKS)))
    assert len(intent_ids) == 1
    (intent_id,) = intent_ids
    assert stripe_client.v1.payment_intents.retrieve(intent_id).status == "succeeded"
    assert len(stripe_client.v1.charges.list(params={"payment_intent": intent_id}).data) == 1
    assert len(stripe_client.v1.payment_intents.list(params={"customer": buyer.customer_id}).data) == 1
    again = core.intents.open(buyer, offer())
    assert (again.intent.id, again.reused, again.paid) == (intent_id, True, True)
    payment = core.ledger.payments.get(intent_id)
    assert (payment.kind, payment.item_id, payment.amount, payment.status) == ("booking", "bk_1", 7875, "pending")


def test_a_declined_attempt_is_retried_on_the_same_intent(core, buyer, stripe_client) -> None:
    declining = saved_card(stripe_client, buyer, "pm_card_chargeCustomerFail")
    opened = core.intents.open(buyer, offer())
    with pytest.raises(PaymentDeclined):
        core.intents.confirm(opened.intent, declining)
    retry = core.intents.open(buyer, offer())
    assert (retry.intent.id, retry.intent.status) == (opened.intent.id, "requires_payment_method")
    paid = core.intents.confirm(retry.intent, saved_card(stripe_client, buyer))
    assert (paid.id, paid.status) == (opened.intent.id, "succeeded")
    charges = stripe_client.v1.charges.list(params={"payment_intent": paid.id}).data
    assert sorted(charge.status for charge in charges) == ["failed", "succeeded"]


def test_a_changed_amount_opens_the_next_intent(core, buyer) -> None:
    first = core.intents.open(buyer, offer(7875))
    second = core.intents.open(buyer, offer(5250))
    assert second.intent.id != first.intent.id
    assert (second.intent.amount, second.reused) == (5250, False)
    assert core.intents.open(buyer, offer(5250)).intent.id == second.intent.id


def test_three_d_secure_waits_for_the_customer(core, buyer, stripe_client) -> None:
    card = saved_card(stripe_client, buyer, "pm_card_authenticationRequired")
    opened = core.intents.open(buyer, offer())
    waiting = core.intents.confirm(opened.intent, card)
    assert waiting.status == "requires_action"
    assert waiting.next_action.type == "redirect_to_url"
    again = core.intents.confirm(core.intents.open(buyer, offer()).intent, card)  # a second click: the same wait
    assert (again.id, again.status) == (waiting.id, "requires_action")
