"""Connect money movements: destination charges, application fees, transfers, reversals, refunds, balances."""

from __future__ import annotations

from typing import Any

import pytest
import stripe

from .conftest import connected_account

STRIPE_FEE_10000 = 320  # 2.9 % + 30 cents


def _as(account: Any) -> Any:
    return {"stripe_account": account.id}


def _net(client: stripe.StripeClient, account: Any = None) -> int:
    """An account's whole balance (available + pending) in USD."""
    balance = client.v1.balance.retrieve(options=_as(account) if account else {})
    return sum(e.amount for e in [*balance.available, *balance.pending] if e.currency == "usd")


def _destination_charge(client: stripe.StripeClient, account: Any, amount: int = 10_000, fee: int = 1_000) -> Any:
    return client.v1.payment_intents.create(params={
        "amount": amount, "currency": "usd", "payment_method": "pm_card_visa", "confirm": True,
        "application_fee_amount": fee, "transfer_data": {"destination": account.id}})


def test_destination_charge_creates_transfer_and_application_fee(client, account) -> None:
    pi = _destination_charge(client, account)
    charge = client.v1.charges.retrieve(pi.latest_charge)
    assert pi.transfer_group == charge.transfer_group == f"group_{pi.id}"
    [transfer] = client.v1.transfers.list(params={"destination": account.id}).data
    assert (transfer.amount, transfer.source_transaction, transfer.transfer_group) == (10_000, charge.id,
                                                                                     pi.transfer_group)
    [fee] = client.v1.application_fees.list().data
    assert charge.application_fee == fee.id
    assert (fee.amount, fee.account, fee.originating_transaction) == (1_000, account.id, charge.id)
    assert fee.charge == transfer.destination_payment
    payment = client.v1.charges.retrieve(str(transfer.destination_payment), options=_as(account),
                                         params={"expand": ["balance_transaction"]})
    assert (payment.amount, payment.source_transfer, payment.application_fee) == (10_000, transfer.id, fee.id)
    payment_txn = payment.balance_transaction
    assert isinstance(payment_txn, stripe.BalanceTransaction)
    assert (payment_txn.type, payment_txn.amount, payment_txn.fee, payment_txn.net) == ("payment", 10_000, 1_000,
                                                                                       9_000)
    # the arithmetic: what the connected account keeps plus the application fee is the charge
    assert payment_txn.net + fee.amount == charge.amount
    assert _net(client, account) == 9_000
    assert _net(client) == 1_000 - STRIPE_FEE_10000  # charge - Stripe fee - transfer + application fee
    platform_types = {t.type: t.net for t in client.v1.balance_transactions.list().data}
    assert platform_types == {"charge": 10_000 - STRIPE_FEE_10000, "transfer": -10_000, "application_fee": 1_000}
    with pytest.raises(stripe.InvalidRequestError):  # the destination payment is not the platform's
        client.v1.charges.retrieve(str(transfer.destination_payment))
    types = [e.type for e in client.v1.events.list().data]
    assert {"transfer.created", "application_fee.created", "charge.succeeded"} <= set(types)


def test_transfer_data_amount_keeps_the_rest_on_the_platform(client, account) -> None:
    pi = client.v1.payment_intents.create(params={
        "amount": 10_000, "currency": "usd", "payment_method": "pm_card_visa", "confirm": True,
        "transfer_data": {"destination": account.id, "amount": 8_500}})
    [transfer] = client.v1.transfers.list().data
    assert transfer.amount == 8_500
    assert client.v1.application_fees.list().data == []
    assert _net(client, account) == 8_500
    assert _net(client) == pi.amount - STRIPE_FEE_10000 - transfer.amount  # the platform keeps the rest


def test_full_refund_with_reversal_and_fee_refund_nets_out(client, account) -> None:
    pi = _destination_charge(client, account)
    refund = client.v1.refunds.create(params={"payment_intent": pi.id, "reverse_transfer": True,
                                              "refund_application_fee": True})
    assert refund.transfer_reversal is not None
    reversal = client.v1.transfers.reversals.retrieve(
        client.v1.transfers.list().data[0].id, str(refund.transfer_reversal))
    assert (reversal.amount, reversal.source_refund) == (10_000, refund.id)
    transfer = client.v1.transfers.retrieve(reversal.transfer)
    assert (transfer.amount_reversed, transfer.reversed) == (10_000, True)
    fee = client.v1.application_fees.list().data[0]
    assert (fee.amount_refunded, fee.refunded, len(fee.refunds.data)) == (1_000, True, 1)
    assert _net(client, account) == 0
    assert _net(client) == -STRIPE_FEE_10000  # Stripe keeps its processing fee
    assert {"transfer.reversed", "application_fee.refunded", "charge.refunded"} <= {
        e.type for e in client.v1.events.list().data}


def test_partial_refunds_reverse_proportionally(client, account) -> None:
    pi = _destination_charge(client, account)
    client.v1.refunds.create(params={"payment_intent": pi.id, "amount": 2_500, "reverse_transfer": True,
                                     "refund_application_fee": True})
    fee = client.v1.application_fees.list().data[0]
    transfer = client.v1.transfers.list().data[0]
    assert (transfer.amount_reversed, fee.amount_refunded) == (2_500, 250)
    assert _net(client, account) == 9_000 - 2_500 + 250
    # without reversal the platform carries the refund alone
    client.v1.refunds.create(params={"payment_intent": pi.id, "amount": 1_000})
    assert client.v1.transfers.retrieve(transfer.id).amount_reversed == 2_500
    assert _net(client) == 1_000 - STRIPE_FEE_10000 - 2_500 + 2_500 - 250 - 1_000
    # the rest (6 500) with reversal: 6 500 of the transfer and 650 of the fee come back
    client.v1.refunds.create(params={"payment_intent": pi.id, "reverse_transfer": True,
                                     "refund_application_fee": True})
    assert client.v1.transfers.retrieve(transfer.id).amount_reversed == 9_000
    fee = client.v1.application_fees.retrieve(fee.id)
    assert (fee.amount_refunded, fee.refunded) == (900, False)
    assert _net(client, account) == 9_000 - 2_500 + 250 - 6_500 + 650
    assert _net(client) + _net(client, account) == -STRIPE_FEE_10000


def test_refund_options_need_a_destination_charge(client) -> None:
    pi = client.v1.payment_intents.create(params={"amount": 1_000, "currency": "usd",
                                                  "payment_method": "pm_card_visa", "confirm": True})
    with pytest.raises(stripe.InvalidRequestError) as exc:
        client.v1.refunds.create(params={"payment_intent": pi.id, "reverse_transfer": True})
    assert exc.value.param == "reverse_transfer"
    with pytest.raises(stripe.InvalidRequestError) as exc:
        client.v1.refunds.create(params={"payment_intent": pi.id, "refund_application_fee": True})
    assert exc.value.param == "refund_application_fee"
    assert client.v1.refunds.list().data == []


def test_separate_charge_and_transfer_with_source_transaction(client, account) -> None:
    pi = client.v1.payment_intents.create(params={"amount": 5_000, "currency": "usd", "confirm": True,
                                                  "payment_method": "pm_card_visa", "transfer_group": "order-7"})
    assert [c.id for c in client.v1.charges.list(params={"transfer_group": "order-7"}).data] == [pi.latest_charge]
    with pytest.raises(stripe.InvalidRequestError) as exc:  # no available funds without a source transaction
        client.v1.transfers.create(params={"amount": 4_000, "currency": "usd", "destination": account.id})
    assert exc.value.code == "balance_insufficient"
    transfer = client.v1.transfers.create(params={
        "amount": 4_000, "currency": "usd", "destination": account.id, "source_transaction": pi.latest_charge,
        "transfer_group": "order-7", "metadata": {"lesson": "L1"}})
    assert (transfer.source_transaction, transfer.transfer_group) == (pi.latest_charge, "order-7")
    assert [t.id for t in client.v1.transfers.list(params={"transfer_group": "order-7"}).data] == [transfer.id]
    with pytest.raises(stripe.InvalidRequestError) as exc:
        client.v1.transfers.create(params={"amount": 1_001, "currency": "usd", "destination": account.id,
                                           "source_transaction": pi.latest_charge})
    assert exc.value.param == "amount"
    reversal = client.v1.transfers.reversals.create(transfer.id, params={"amount": 1_500})
    assert reversal.amount == 1_500
    assert [r.id for r in client.v1.transfers.reversals.list(transfer.id).data] == [reversal.id]
    assert _net(client, account) == 4_000 - 1_500
    assert _net(client) == 5_000 - 175 - 4_000 + 1_500
    updated = client.v1.transfers.update(transfer.id, params={"description": "Lesson L1"})
    assert updated.description == "Lesson L1"
    with pytest.raises(stripe.InvalidRequestError) as exc:
        client.v1.transfers.reversals.create(transfer.id, params={"amount": 2_501})
    assert exc.value.param == "amount"


def test_transfer_from_available_balance_and_destination_checks(client, account) -> None:
    client.v1.payment_intents.create(params={"amount": 5_000, "currency": "usd", "confirm": True,
                                             "payment_method": "pm_card_bypassPending"})
    transfer = client.v1.transfers.create(params={"amount": 3_000, "currency": "usd", "destination": account.id})
    assert transfer.source_transaction is None
    balance = client.v1.balance.retrieve(options=_as(account))
    assert balance.available[0].amount == 3_000  # funds from the available balance arrive available
    express = client.v1.accounts.create(params={"type": "express"})
    with pytest.raises(stripe.InvalidRequestError) as exc:
        client.v1.transfers.create(params={"amount": 100, "currency": "usd", "destination": express.id})
    assert exc.value.code == "insufficient_capabilities_for_transfer"
    with pytest.raises(stripe.InvalidRequestError) as exc:
        client.v1.payment_intents.create(params={"amount": 1_000, "currency": "usd",
                                                 "transfer_data": {"destination": "acct_missing"}})
    assert exc.value.param == "transfer_data[destination]"
    with pytest.raises(stripe.InvalidRequestError) as exc:
        client.v1.payment_intents.create(params={"amount": 1_000, "currency": "usd", "on_behalf_of": account.id})
    assert exc.value.param == "on_behalf_of"


def test_direct_charge_on_connected_account_with_application_fee(client, account) -> None:
    pi = client.v1.payment_intents.create(params={"amount": 10_000, "currency": "usd", "confirm": True,
                                                  "payment_method": "pm_card_visa", "application_fee_amount": 700},
                                          options=_as(account))
    charge = client.v1.charges.retrieve(pi.latest_charge, options=_as(account),
                                        params={"expand": ["balance_transaction"]})
    txn = charge.balance_transaction
    assert isinstance(txn, stripe.BalanceTransaction)
    assert (txn.fee, txn.net) == (STRIPE_FEE_10000 + 700, 10_000 - STRIPE_FEE_10000 - 700)
    [fee] = client.v1.application_fees.list().data
    assert (fee.account, fee.charge, fee.amount) == (account.id, charge.id, 700)
    assert _net(client) == 700
    refund = client.v1.application_fees.refunds.create(fee.id, params={"amount": 200, "metadata": {"r": "1"}})
    assert (refund.object, refund.amount, refund.fee) == ("fee_refund", 200, fee.id)
    assert client.v1.application_fees.refunds.retrieve(fee.id, refund.id).metadata.to_dict() == {"r": "1"}
    assert _net(client) == 500
    assert _net(client, account) == 10_000 - STRIPE_FEE_10000 - 700 + 200
    with pytest.raises(stripe.InvalidRequestError) as exc:
        client.v1.application_fees.refunds.create(fee.id, params={"amount": 501})
    assert exc.value.code == "amount_too_large"


def test_payouts_paid_by_control_route_failed_by_test_bank_number(client, control, account) -> None:
    source = client.v1.payment_intents.create(params={"amount": 10_000, "currency": "usd", "confirm": True,
                                                      "payment_method": "pm_card_visa"})
    client.v1.transfers.create(params={"amount": 6_000, "currency": "usd", "destination": account.id,
                                       "source_transaction": source.latest_charge})
    with pytest.raises(stripe.InvalidRequestError) as exc:
        client.v1.payouts.create(params={"amount": 1_000, "currency": "usd"}, options=_as(account))
    assert exc.value.code == "balance_insufficient"  # a source_transaction's funds follow the charge: pending
    control.post("/balance/make_available", {"account": account.id})
    payout = client.v1.payouts.create(params={"amount": 2_000, "currency": "usd"}, options=_as(account))
    assert (payout.status, payout.destination) == ("pending", account.external_accounts.data[0].id)
    assert payout.arrival_date > payout.created
    assert client.v1.balance.retrieve(options=_as(account)).available[0].amount == 4_000
    paid = control.post(f"/payouts/{payout.id}/resolve", {})
    assert paid["status"] == "paid"
    events = client.v1.events.list(params={"type": "payout.*"}, options=_as(account)).data
    assert [e.type for e in events][:2] == ["payout.paid", "payout.updated"]
    assert client.v1.events.list(params={"type": "payout.*"}).data == []
    failing = connected_account(client, external_account="btok_us_verified_noAccount")
    client.v1.payment_intents.create(params={"amount": 1_000, "currency": "usd", "confirm": True,
                                             "payment_method": "pm_card_bypassPending"})
    client.v1.transfers.create(params={"amount": 500, "currency": "usd", "destination": failing.id})
    failed_payout = client.v1.payouts.create(params={"amount": 500, "currency": "usd"}, options=_as(failing))
    failed = control.post(f"/payouts/{failed_payout.id}/resolve", {})
    assert (failed["status"], failed["failure_code"]) == ("failed", "no_account")
    assert client.v1.balance.retrieve(options=_as(failing)).available[0].amount == 500  # the money came back
    assert [p.id for p in client.v1.payouts.list(params={"status": "failed"}, options=_as(failing)).data] == [
        failed_payout.id]


def test_payouts_arrive_on_test_clock_advance_and_cancel(client, account) -> None:
    client.v1.payment_intents.create(params={"amount": 9_000, "currency": "usd", "confirm": True,
                                             "payment_method": "pm_card_bypassPending"})
    payout = client.v1.payouts.create(params={"amount": 3_000, "currency": "usd", "description": "weekly"})
    canceled = client.v1.payouts.cancel(client.v1.payouts.create(params={"amount": 1_000, "currency": "usd"}).id)
    assert canceled.status == "canceled"
    assert _net(client) == 9_000 - 291 - 3_000
    clock = client.v1.test_helpers.test_clocks.create(params={"frozen_time": payout.created})
    client.v1.test_helpers.test_clocks.advance(clock.id, params={"frozen_time": payout.arrival_date})
    assert client.v1.payouts.retrieve(payout.id).status == "paid"
    with pytest.raises(stripe.InvalidRequestError) as exc:
        client.v1.payouts.cancel(payout.id)
    assert exc.value.code == "payout_unexpected_state"
    express = client.v1.accounts.create(params={"type": "express"})
    with pytest.raises(stripe.InvalidRequestError) as exc:
        client.v1.payouts.create(params={"amount": 100, "currency": "usd"}, options=_as(express))
    assert exc.value.code == "payouts_not_allowed"
    with pytest.raises(stripe.InvalidRequestError) as exc:
        client.v1.payouts.create(params={"amount": 100, "currency": "usd", "method": "instant"})
    assert exc.value.param == "method"
