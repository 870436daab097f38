"""Connect accounts, account and login links, the Stripe-Account header and Connect webhook endpoints."""

from __future__ import annotations

import json
from typing import Any

import pytest
import stripe

from .conftest import Receiver


def _as(account: Any) -> Any:
    return {"stripe_account": account.id}


def test_express_account_starts_with_requirements_due(client) -> None:
    account = client.v1.accounts.create(params={"type": "express", "email": "host@example.com",
                                                "metadata": {"instructor_id": "i-1"}})
    assert account.id.startswith("acct_")
    assert (account.type, account.country, account.email) == ("express", "US", "host@example.com")
    assert (account.charges_enabled, account.payouts_enabled, account.details_submitted) == (False, False, False)
    assert account.controller.stripe_dashboard.type == "express"
    assert {"business_type", "external_account", "tos_acceptance.date"} <= set(account.requirements.currently_due)
    assert account.requirements.disabled_reason == "requirements.past_due"
    assert account.capabilities.to_dict() == {"card_payments": "inactive", "transfers": "inactive"}
    with pytest.raises(stripe.InvalidRequestError) as exc:
        client.v1.accounts.update(account.id, params={"tos_acceptance": {"date": 1_700_000_000, "ip": "1.2.3.4"}})
    assert exc.value.param == "tos_acceptance"
    assert client.v1.accounts.retrieve(account.id).metadata.to_dict() == {"instructor_id": "i-1"}


def test_custom_account_is_enabled_by_the_platform_through_the_api(client) -> None:
    account = client.v1.accounts.create(params={
        "controller": {"stripe_dashboard": {"type": "none"}, "requirement_collection": "application",
                       "fees": {"payer": "application"}, "losses": {"payments": "application"}},
        "capabilities": {"transfers": {"requested": True}}, "business_type": "individual"})
    assert account.type == "custom"
    assert "individual.first_name" in account.requirements.currently_due
    updated = client.v1.accounts.update(account.id, params={
        "business_profile": {"url": "https://tutor.example"},
        "individual": {"first_name": "Grace", "last_name": "Hopper", "email": "g@example.com",
                       "dob": {"day": 9, "month": 12, "year": 1906}, "ssn_last_4": "0000"},
        "external_account": {"object": "bank_account", "country": "US", "currency": "usd",
                             "routing_number": "110000000", "account_number": "000123456789"},
        "tos_acceptance": {"date": 1_700_000_000, "ip": "127.0.0.1"}})
    assert updated.requirements.currently_due == []
    assert (updated.charges_enabled, updated.payouts_enabled, updated.details_submitted) == (False, True, True)
    assert updated.capabilities.to_dict() == {"transfers": "active"}  # card_payments was not requested
    assert updated.individual.first_name == "Grace"
    [bank] = updated.external_accounts.data
    assert (bank.object, bank.last4, bank.routing_number) == ("bank_account", "6789", "110000000")
    events = client.v1.events.list(params={"type": "account.updated"}, options=_as(account)).data
    assert events[0].account == account.id
    assert events[0].data.previous_attributes["payouts_enabled"] is False
    assert client.v1.events.list(params={"type": "account.updated"}).data == []  # not a platform event


def test_accounts_list_retrieve_delete(client, account) -> None:
    other = client.v1.accounts.create(params={"type": "express"})
    assert [a.id for a in client.v1.accounts.list().data] == [other.id, account.id]
    assert client.v1.accounts.retrieve(account.id).charges_enabled is True
    own = client.v1.accounts.retrieve_current(options=_as(account))
    assert own.id == account.id
    deleted = client.v1.accounts.delete(other.id)
    assert (deleted.id, deleted.deleted) == (other.id, True)
    with pytest.raises(stripe.InvalidRequestError) as exc:
        client.v1.accounts.retrieve(other.id)
    assert exc.value.http_status == 404
    assert [a.id for a in client.v1.accounts.list().data] == [account.id]


def test_account_parameters_are_checked(client) -> None:
    with pytest.raises(stripe.InvalidRequestError) as exc:
        client.v1.accounts.create(params={"type": "express", "settings": {"payouts": {"schedule": {
            "interval": "daily"}}}})
    assert (exc.value.code, exc.value.param) == ("parameter_unknown", "settings")
    with pytest.raises(stripe.InvalidRequestError) as exc:
        client.v1.accounts.create(params={"type": "platinum"})  # type: ignore[typeddict-item]
    assert exc.value.param == "type"
    with pytest.raises(stripe.InvalidRequestError) as exc:
        client.v1.accounts.create(params={"type": "custom", "controller": {"stripe_dashboard": {"type": "none"}}})
    assert exc.value.param == "controller"
    with pytest.raises(stripe.InvalidRequestError) as exc:
        client.v1.accounts.create(params={"type": "custom", "external_account": "btok_nonsense"})
    assert exc.value.http_status == 404
    with pytest.raises(stripe.InvalidRequestError) as exc:
        client.v1.accounts.create(params={"type": "custom", "individual": {"ssn_last_4": "12"}})
    assert exc.value.param == "individual[ssn_last_4]"


def test_account_links_and_login_links(client, sandbox, account) -> None:
    express = client.v1.accounts.create(params={"type": "express"})
    link = client.v1.account_links.create(params={
        "account": express.id, "type": "account_onboarding", "refresh_url": "https://platform.example/refresh",
        "return_url": "https://platform.example/return"})
    assert link.object == "account_link"
    assert link.url.startswith(f"{sandbox.url}/connect/onboarding/")
    assert link.expires_at == link.created + 300
    with pytest.raises(stripe.InvalidRequestError) as exc:
        client.v1.account_links.create(params={"account": express.id, "type": "account_update"})
    assert exc.value.param == "type"
    with pytest.raises(stripe.InvalidRequestError) as exc:
        client.v1.account_links.create(params={"account": "acct_missing", "type": "account_onboarding"})
    assert exc.value.http_status == 404
    with pytest.raises(stripe.InvalidRequestError):  # Express accounts: not before onboarding
        client.v1.accounts.login_links.create(express.id)
    with pytest.raises(stripe.InvalidRequestError) as exc:  # only Express accounts have the Express dashboard
        client.v1.accounts.login_links.create(account.id)
    assert exc.value.param == "account"


def test_stripe_account_header_scopes_objects(client, account) -> None:
    on_connected = client.v1.customers.create(params={"email": "c@example.com"}, options=_as(account))
    on_platform = client.v1.customers.create(params={"email": "p@example.com"})
    with pytest.raises(stripe.InvalidRequestError) as exc:
        client.v1.customers.retrieve(on_connected.id)
    assert exc.value.http_status == 404
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.customers.retrieve(on_platform.id, options=_as(account))
    assert [c.id for c in client.v1.customers.list().data] == [on_platform.id]
    assert [c.id for c in client.v1.customers.list(options=_as(account)).data] == [on_connected.id]
    assert client.v1.customers.retrieve(on_connected.id, options=_as(account)).email == "c@example.com"
    created = client.v1.events.list(params={"type": "customer.created"}, options=_as(account)).data
    assert [(e.data.object.id, e.account) for e in created] == [(on_connected.id, account.id)]
    with pytest.raises(stripe.PermissionError) as denied:
        client.v1.customers.list(options={"stripe_account": "acct_unknown"})
    assert denied.value.http_status == 403
    assert denied.value.json_body["error"]["code"] == "account_invalid"


def test_idempotency_keys_are_scoped_per_account(client, account) -> None:
    first = client.v1.customers.create(params={"email": "a@example.com"},
                                       options={"idempotency_key": "same-key", "stripe_account": account.id})
    second = client.v1.customers.create(params={"email": "a@example.com"}, options={"idempotency_key": "same-key"})
    assert first.id != second.id


def test_connect_endpoints_receive_connected_accounts_events_only(client, control, account) -> None:
    platform_hook, connect_hook = Receiver(), Receiver()
    try:
        client.v1.webhook_endpoints.create(params={"url": platform_hook.url, "enabled_events": ["*"]})
        client.v1.webhook_endpoints.create(params={"url": connect_hook.url, "enabled_events": ["*"],
                                                   "connect": True})
        client.v1.customers.create(params={"email": "platform@example.com"})
        client.v1.customers.create(params={"email": "connected@example.com"}, options=_as(account))
        client.v1.accounts.update(account.id, params={"metadata": {"tier": "gold"}})
        control.flush()
        platform = platform_hook.events()
        connect = connect_hook.events()
        assert [(e["type"], e.get("account")) for e in platform] == [("customer.created", None)]
        assert [(e["type"], e["account"]) for e in connect] == [("customer.created", account.id),
                                                                ("account.updated", account.id)]
        assert connect[0]["data"]["object"]["email"] == "connected@example.com"
        assert json.loads(connect_hook.requests[1]["body"])["data"]["object"]["metadata"] == {"tier": "gold"}
    finally:
        platform_hook.close()
        connect_hook.close()
