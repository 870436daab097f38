"""Balance transactions and the balance of the platform account: charges, fees, refunds, availability."""

from __future__ import annotations

from typing import Any

import pytest
import stripe


def _pay(client: stripe.StripeClient, amount: int, payment_method: str = "pm_card_visa") -> Any:
    return client.v1.payment_intents.create(params={"amount": amount, "currency": "usd",
                                                    "payment_method": payment_method, "confirm": True})


def _usd(entries: Any) -> int:
    return next(e.amount for e in entries if e.currency == "usd")


def test_charge_and_refund_transactions_and_balance(client) -> None:
    empty = client.v1.balance.retrieve()
    assert (_usd(empty.available), _usd(empty.pending)) == (0, 0)
    pi = _pay(client, 10_000)
    charge = client.v1.charges.retrieve(pi.latest_charge, params={"expand": ["balance_transaction"]})
    txn = charge.balance_transaction
    assert isinstance(txn, stripe.BalanceTransaction)
    # Stripe's US card price: 2.9 % + 30 cents
    assert (txn.type, txn.amount, txn.fee, txn.net, txn.status) == ("charge", 10_000, 320, 9_680, "pending")
    assert txn.fee_details[0].type == "stripe_fee"
    assert txn.available_on > txn.created
    refund = client.v1.refunds.create(params={"payment_intent": pi.id, "amount": 3_000})
    refund_txn = client.v1.balance_transactions.retrieve(str(refund.balance_transaction))
    assert (refund_txn.type, refund_txn.amount, refund_txn.net, refund_txn.source) == (
        "refund", -3_000, -3_000, refund.id)
    after = client.v1.balance.retrieve()
    assert _usd(after.pending) == 9_680  # the charge settles later
    assert _usd(after.available) == -3_000  # the refund is taken at once
    listed = client.v1.balance_transactions.list(params={"type": "charge"}).data
    assert [t.id for t in listed] == [txn.id]
    assert [t.id for t in client.v1.balance_transactions.list(params={"source": refund.id}).data] == [refund_txn.id]


def test_bypass_pending_card_funds_are_available_at_once(client) -> None:
    _pay(client, 5_000, "pm_card_bypassPending")
    balance = client.v1.balance.retrieve()
    assert (_usd(balance.available), _usd(balance.pending)) == (5_000 - 175, 0)


def test_make_available_control_route(client, control) -> None:
    _pay(client, 2_000)
    answer = control.post("/balance/make_available", {})
    assert answer["available"][0]["amount"] == 2_000 - 88
    assert answer["pending"][0]["amount"] == 0
    assert client.v1.balance_transactions.list().data[0].status == "available"
    control.post("/balance/make_available", {"account": "acct_missing"}, expect=404)


def test_balance_transaction_list_rejects_unsupported_filters(client) -> None:
    with pytest.raises(stripe.InvalidRequestError) as exc:
        client.v1.balance_transactions.list(params={"payout": "po_123"})
    assert exc.value.code == "parameter_unknown"
    with pytest.raises(stripe.InvalidRequestError) as exc:
        client.v1.balance_transactions.list(params={"type": "sandwich"})
    assert exc.value.param == "type"
