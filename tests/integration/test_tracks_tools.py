"""Learning tools and progress through the local stack: a purchase (Stripe sandbox -> webhook -> bus -> SQS ->
fulfilment -> provisioning) provisions real tools on the stack's PostgreSQL and tool stand-ins, the student's
page shows the credentials, a full refund revokes all of it, and a teacher's completion unlocks project 2."""

from __future__ import annotations

import uuid
from typing import Any

import pg8000.native
import pytest
import requests

from tests.support.billing_stack import register

TEACHER = "teacher@coursepay.local"


@pytest.fixture(scope="module")
def standins(stack: Any) -> str:
    return str(stack.learning_tools.standins.url)


def buy(api, stripe_client, buyer, track_id):
    created = api.post(f"/tracks/{track_id}/payment-intents", token=buyer.token, json={})
    assert created.status_code == 201, created.text
    pi = created.json()["payment_intent_id"]
    stripe_client.v1.payment_intents.confirm(pi, params={"payment_method": "pm_card_visa"})
    return pi


def tools_page(api, buyer, track_id, state, eventually):
    def check():
        response = api.get(f"/me/tracks/{track_id}/tools", token=buyer.token)
        return response.status_code == 200 and response.json()["state"] == state and response.json()
    return {tool["tool_id"]: tool for tool in eventually(check, timeout=30)["tools"]}


def connect(tool):
    credentials, details = tool["credentials"], tool["details"]
    return pg8000.native.Connection(credentials["username"], password=credentials["password"], host=details["host"],
                                    port=int(details["port"]), database=details["database"])


def test_a_dp_buyer_uses_their_schema_only_and_a_full_refund_revokes_it(api, stack, login, stripe_client,
                                                                       eventually):
    nora, omar = register(api, stack, login, "nora"), register(api, stack, login, "omar")
    pi = buy(api, stripe_client, nora, "DP")
    buy(api, stripe_client, omar, "DP")
    mine = tools_page(api, nora, "DP", "provisioned", eventually)["postgres"]
    theirs = tools_page(api, omar, "DP", "provisioned", eventually)["postgres"]
    assert mine["credentials"]["dsn"].startswith(f"postgresql://{mine['username']}:")
    assert api.get("/me/tracks", token=nora.token).json()["items"][0]["tools"]["state"] == "provisioned"
    assert mine["credentials"]["password"] not in api.get("/me/tracks", token=nora.token).text

    db = connect(mine)
    try:
        db.run("CREATE TABLE orders (id int PRIMARY KEY, amount int)")
        db.run("INSERT INTO orders VALUES (1, 4990)")
        assert db.run("SELECT sum(amount) FROM orders") == [[4990]]
        with pytest.raises(pg8000.native.DatabaseError, match="permission denied for schema"):
            db.run(f"CREATE TABLE {theirs['details']['schema']}.mine (id int)")
    finally:
        db.close()

    stripe_client.v1.refunds.create(params={"payment_intent": pi})  # a full refund, from the dashboard
    revoked = tools_page(api, nora, "DP", "revoked", eventually)
    assert {tool["state"] for tool in revoked.values()} == {"revoked"}
    assert revoked["postgres"].get("credentials") is None
    with pytest.raises(pg8000.native.DatabaseError, match="not permitted to log in"):
        connect(mine)
    connect(theirs).close()  # the other student keeps theirs


def test_an_fsd_buyer_gets_a_repository_and_an_invitation_and_a_full_refund_revokes_all_of_it(
        api, stack, login, stripe_client, eventually, standins):
    gita = register(api, stack, login, "gita")
    github_login = f"gita-{uuid.uuid4().hex[:6]}"
    requests.post(f"{standins}/_standins/github/users", json={"login": github_login}, timeout=5).raise_for_status()
    assert api.put("/me/tool-accounts", token=gita.token, json={"github_username": github_login}).status_code == 200
    pi = buy(api, stripe_client, gita, "FSD")
    tools = tools_page(api, gita, "FSD", "provisioned", eventually)
    repository = tools["github"]["details"]["repository"]
    assert tools["github"]["details"]["invitation"] == "sent"
    state = requests.get(f"{standins}/_standins/state", timeout=5).json()
    repo = next(r for r in state["github"]["repositories"] if r["full_name"] == repository)
    assert (repo["private"], repo["archived"]) == (True, False)
    assert repo["template_repository"]["full_name"] == "coursepay-fsd/fsd-project-template"
    assert [i["invitee"]["login"] for i in state["github"]["invitations"][repository]] == [github_login]
    assert tools["code_server"]["username"] in state["hubs"]["code_server"]
    invite = tools["discord"]["details"]["invite_code"]
    assert invite in {i["code"] for i in state["discord"]["invites"]}

    stripe_client.v1.refunds.create(params={"payment_intent": pi})
    tools_page(api, gita, "FSD", "revoked", eventually)
    state = requests.get(f"{standins}/_standins/state", timeout=5).json()
    assert next(r for r in state["github"]["repositories"] if r["full_name"] == repository)["archived"] is True
    assert state["github"]["invitations"][repository] == []
    assert tools["code_server"]["username"] not in state["hubs"]["code_server"]
    assert invite not in {i["code"] for i in state["discord"]["invites"]}


def test_completing_project_one_unlocks_project_two(api, stack, login, stripe_client, eventually):
    buyer = register(api, stack, login, "progress")
    buy(api, stripe_client, buyer, "DP")
    eventually(lambda: api.get("/me/tracks", token=buyer.token).json()["items"], timeout=30)
    submitted = api.post("/me/tracks/DP/projects/DP-P1/submit", token=buyer.token,
                         json={"submission_url": "https://github.com/progress/sales-mart"})
    assert submitted.status_code == 200, submitted.text
    teacher = login(TEACHER)["access_token"]
    assert api.post(f"/tracks/DP/students/{buyer.user_id}/projects/DP-P1/complete", token=buyer.token,
                    json={}).status_code == 403
    completed = api.post(f"/tracks/DP/students/{buyer.user_id}/projects/DP-P1/complete", token=teacher,
                         json={"feedback": "Well modelled."})
    assert completed.status_code == 200, completed.text
    assert completed.json()["unlocked"]["project_id"] == "DP-P2"
    [track] = api.get("/me/tracks", token=buyer.token).json()["items"]
    assert [p["state"] for p in track["projects"]] == ["completed", "unlocked", "locked"]
