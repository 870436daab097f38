"""Disputes: Stripe's dispute test cards, evidence, close, outcomes and their balance transactions."""

from __future__ import annotations

from typing import Any

import pytest
import stripe

DISPUTE_FEE = 1500


def _pay(client: stripe.StripeClient, payment_method: str, amount: int = 2000) -> Any:
    return client.v1.payment_intents.create(params={"amount": amount, "currency": "usd",
                                                    "payment_method": payment_method, "confirm": True})


def _card(client: stripe.StripeClient, number: str) -> str:
    return client.v1.payment_methods.create(params={
        "type": "card", "card": {"number": number, "exp_month": 12, "exp_year": 2034, "cvc": "123"}}).id


def _dispute_of(client: stripe.StripeClient, pi: Any) -> Any:
    disputes = client.v1.disputes.list(params={"payment_intent": pi.id}).data
    assert len(disputes) == 1
    return disputes[0]


def test_create_dispute_card_opens_a_chargeback_and_withdraws_the_funds(client, control, receiver, endpoint):
    pi = _pay(client, "pm_card_createDispute")
    assert pi.status == "succeeded"
    dispute = _dispute_of(client, pi)
    assert dispute.id.startswith("dp_")
    assert (dispute.amount, dispute.currency, dispute.charge, dispute.payment_intent) == (
        2000, "usd", pi.latest_charge, pi.id)
    assert (dispute.reason, dispute.status, dispute.is_charge_refundable) == ("fraudulent", "needs_response", False)
    assert dispute.payment_method_details.card.case_type == "chargeback"
    assert dispute.evidence_details.due_by > dispute.created
    assert client.v1.charges.retrieve(pi.latest_charge).disputed is True
    [withdrawal] = dispute.balance_transactions
    assert (withdrawal.type, withdrawal.amount, withdrawal.fee, withdrawal.net) == (
        "adjustment", -2000, DISPUTE_FEE, -2000 - DISPUTE_FEE)
    assert withdrawal.source == dispute.id
    assert client.v1.balance_transactions.retrieve(withdrawal.id).reporting_category == "dispute"
    control.flush()
    types = receiver.types()
    assert types.index("charge.succeeded") < types.index("charge.dispute.created")
    assert types.index("charge.dispute.created") < types.index("charge.dispute.funds_withdrawn")
    created = next(e for e in receiver.events() if e["type"] == "charge.dispute.created")
    assert created["data"]["object"]["id"] == dispute.id


@pytest.mark.parametrize(("card", "reason", "status"), [
    ("4000000000000259", "fraudulent", "needs_response"),
    ("4000000000002685", "product_not_received", "needs_response"),
    ("4000000000001976", "general", "warning_needs_response"),
    ("4000000404000038", "fraudulent", "needs_response"),
])
def test_dispute_card_numbers(client, card, reason, status) -> None:
    dispute = _dispute_of(client, _pay(client, _card(client, card)))
    assert (dispute.reason, dispute.status) == (reason, status)
    inquiry = status.startswith("warning_")
    assert dispute.payment_method_details.card.case_type == ("inquiry" if inquiry else "chargeback")
    assert len(dispute.balance_transactions) == (0 if inquiry else 1)
    assert dispute.is_charge_refundable is inquiry
    assert dispute.enhanced_eligibility_types == (["visa_compelling_evidence_3"] if card == "4000000404000038"
                                                  else [])


def test_ordinary_cards_are_not_disputed(client) -> None:
    pi = _pay(client, "pm_card_visa")
    assert client.v1.disputes.list(params={"charge": pi.latest_charge}).data == []
    assert client.v1.charges.retrieve(pi.latest_charge).disputed is False


def test_evidence_staged_then_submitted_then_won(client, control) -> None:
    pi = _pay(client, "pm_card_createDispute")
    dispute = _dispute_of(client, pi)
    staged = client.v1.disputes.update(dispute.id, params={
        "evidence": {"customer_name": "Ada Lovelace", "product_description": "DP course"},
        "metadata": {"case": "42"}, "submit": False})
    assert staged.status == "needs_response"
    assert staged.evidence.customer_name == "Ada Lovelace"
    assert (staged.evidence_details.has_evidence, staged.evidence_details.submission_count) == (True, 0)
    assert staged.metadata.to_dict() == {"case": "42"}
    updated = client.v1.events.list(params={"type": "charge.dispute.updated"}).data[0]
    assert updated.data.previous_attributes["evidence"]["customer_name"] is None
    submitted = client.v1.disputes.update(dispute.id, params={"submit": True})
    assert (submitted.status, submitted.evidence_details.submission_count) == ("under_review", 1)
    with pytest.raises(stripe.InvalidRequestError) as exc:
        client.v1.disputes.update(dispute.id, params={"evidence": {"customer_name": "Late"}})
    assert exc.value.code == "dispute_unexpected_state"
    won = control.post(f"/disputes/{dispute.id}/resolve", {"outcome": "won"})
    assert won["status"] == "won"
    withdrawal, reinstatement = won["balance_transactions"]
    assert (reinstatement["amount"], reinstatement["fee"], reinstatement["net"]) == (2000, -DISPUTE_FEE,
                                                                                      2000 + DISPUTE_FEE)
    assert withdrawal["net"] + reinstatement["net"] == 0
    types = [e.type for e in client.v1.events.list(params={"type": "charge.dispute.*"}).data]
    assert types[:2] == ["charge.dispute.funds_reinstated", "charge.dispute.closed"]
    control.post(f"/disputes/{dispute.id}/resolve", {"outcome": "lost"}, expect=400)


def test_evidence_validation(client) -> None:
    dispute = _dispute_of(client, _pay(client, "pm_card_createDispute"))
    with pytest.raises(stripe.InvalidRequestError) as exc:
        client.v1.disputes.update(dispute.id, params={"evidence": {"receipt": "file_123"}})
    assert (exc.value.http_status, exc.value.code) == (404, "resource_missing")
    with pytest.raises(stripe.InvalidRequestError) as exc:
        client.v1.disputes.update(dispute.id, params={"evidence": {"favourite_colour": "blue"}})  # type: ignore[typeddict-unknown-key]
    assert (exc.value.code, exc.value.param) == ("parameter_unknown", "evidence[favourite_colour]")
    with pytest.raises(stripe.InvalidRequestError) as exc:
        client.v1.disputes.update(dispute.id, params={"evidence": {"uncategorized_text": "x" * 150_001}})
    assert exc.value.param == "evidence"
    assert client.v1.disputes.retrieve(dispute.id).status == "needs_response"


def test_close_accepts_the_dispute_as_lost(client, control) -> None:
    pi = _pay(client, "pm_card_createDispute")
    dispute = _dispute_of(client, pi)
    lost = client.v1.disputes.close(dispute.id)
    assert lost.status == "lost"
    assert len(lost.balance_transactions) == 1  # the funds stay withdrawn
    assert client.v1.events.list(params={"type": "charge.dispute.closed"}).data[0].data.object.status == "lost"
    assert client.v1.events.list(params={"type": "charge.dispute.funds_reinstated"}).data == []
    with pytest.raises(stripe.InvalidRequestError) as exc:
        client.v1.disputes.close(dispute.id)
    assert exc.value.code == "dispute_unexpected_state"
    control.post(f"/disputes/{dispute.id}/resolve", {"outcome": "won"}, expect=400)


@pytest.mark.parametrize(("evidence", "status"), [("winning_evidence", "won"), ("losing_evidence", "lost")])
def test_test_evidence_decides_the_dispute(client, evidence, status) -> None:
    dispute = _dispute_of(client, _pay(client, "pm_card_createDispute"))
    decided = client.v1.disputes.update(dispute.id, params={"evidence": {"uncategorized_text": evidence}})
    assert decided.status == status
    assert len(decided.balance_transactions) == (2 if status == "won" else 1)


def test_inquiry_closes_without_money_or_escalates(client, control) -> None:
    inquiry = _dispute_of(client, _pay(client, "pm_card_createDisputeInquiry"))
    closed = client.v1.disputes.close(inquiry.id)
    assert (closed.status, closed.balance_transactions) == ("warning_closed", [])
    second = _dispute_of(client, _pay(client, "pm_card_createDisputeInquiry"))
    escalated = client.v1.disputes.update(second.id, params={
        "evidence": {"uncategorized_text": "escalate_inquiry_evidence"}})
    assert (escalated.status, escalated.is_charge_refundable) == ("needs_response", False)
    assert escalated.payment_method_details.card.case_type == "chargeback"
    assert escalated.balance_transactions[0].net == -2000 - DISPUTE_FEE
    third = _dispute_of(client, _pay(client, "pm_card_createDisputeInquiry"))
    assert control.post(f"/disputes/{third.id}/resolve", {"outcome": "escalate"})["status"] == "needs_response"
    withdrawn = client.v1.events.list(params={"type": "charge.dispute.funds_withdrawn"}).data
    assert {e.data.object.id for e in withdrawn} == {second.id, third.id}


def test_charged_back_charge_cannot_be_refunded_but_an_inquiry_can(client) -> None:
    pi = _pay(client, "pm_card_createDispute")
    with pytest.raises(stripe.InvalidRequestError) as exc:
        client.v1.refunds.create(params={"payment_intent": pi.id})
    assert exc.value.code == "charge_disputed"
    inquiry = _pay(client, "pm_card_createDisputeInquiry")
    assert client.v1.refunds.create(params={"payment_intent": inquiry.id}).amount == 2000


def test_control_route_disputes_any_charge(client, control) -> None:
    pi = _pay(client, "pm_card_visa", amount=4900)
    dispute = control.post(f"/charges/{pi.latest_charge}/dispute", {"reason": "subscription_canceled"})
    assert (dispute["reason"], dispute["amount"], dispute["status"]) == ("subscription_canceled", 4900,
                                                                         "needs_response")
    assert client.v1.disputes.retrieve(dispute["id"]).charge == pi.latest_charge
    control.post(f"/charges/{pi.latest_charge}/dispute", {}, expect=400)  # it already has an open dispute
    control.post(f"/charges/{pi.latest_charge}/dispute", {"reason": "bored"}, expect=400)
    control.post("/charges/ch_missing/dispute", {}, expect=404)


def test_a_partly_captured_charge_is_disputed_for_what_was_captured(client, control) -> None:
    pi = client.v1.payment_intents.create(params={"amount": 5000, "currency": "usd", "payment_method": "pm_card_visa",
                                                  "confirm": True, "capture_method": "manual",
                                                  "automatic_payment_methods": {"enabled": True,
                                                                                "allow_redirects": "never"}})
    captured = client.v1.payment_intents.capture(pi.id, params={"amount_to_capture": 3000})
    assert captured.amount_received == 3000
    dispute = control.post(f"/charges/{pi.latest_charge}/dispute", {})
    assert dispute["amount"] == 3000  # not the released 2,000


def test_disputes_reject_unsupported_parameters(client) -> None:
    dispute = _dispute_of(client, _pay(client, "pm_card_createDispute"))
    with pytest.raises(stripe.InvalidRequestError) as exc:
        client.v1.disputes.update(dispute.id, params={"intended_submission_method": "manual"})
    assert exc.value.code == "parameter_unknown"
    with pytest.raises(stripe.InvalidRequestError) as exc:
        client.v1.disputes.list(params={"status": "won"})  # type: ignore[typeddict-unknown-key]
    assert exc.value.code == "parameter_unknown"
