"""Paid tracks end to end through the local stack: API Gateway + Cognito JWT, the payments function, the Stripe
sandbox (its API through the official SDK, its hosted checkout page in a real browser), the webhook -> bus -> SQS
-> fulfilment / provisioning / notifications consumers, and moto's SES outbox."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import pytest
import requests

from local.stack.seed import DEMO_PASSWORD
from tests.support.accounts import link_token, register_verified
from tests.support.billing_stack import my_track
from tests.support.billing_stack import payment_view as payment

ADMIN = "admin@coursepay.local"
NEW_PASSWORD = "N3wPassword42"


# ------------------------------------------------------------------------------------------------ helpers
@pytest.fixture(scope="module")
def student(api: Any, stack: Any, login: Callable[..., dict[str, Any]]) -> Callable[[], dict[str, str]]:
    """``student()``: a freshly registered student with a verified e-mail ``{email, token, user_id}``."""

    def register() -> dict[str, str]:
        email = f"track-{uuid.uuid4().hex[:8]}@example.com"
        created = register_verified(api, stack, email, DEMO_PASSWORD, "Tracy")
        return {"email": email, "token": login(email)["access_token"], "user_id": created["user_id"]}

    return register


@pytest.fixture(scope="module")
def admin(login: Callable[..., dict[str, Any]]) -> str:
    return str(login(ADMIN)["access_token"])


def urls(stack: Any) -> dict[str, str]:
    base = str(stack.api_url).rstrip("/")
    return {"success_url": f"{base}/payment/success", "cancel_url": f"{base}/get-started"}


def signup_body(stack: Any) -> dict[str, str]:
    """A payment-first sign-up's body: the URLs and the terms the buyer accepts."""
    return {**urls(stack), "accepted_terms_version": str(stack.parameters["TermsVersion"])}


def mails_to(outbox: Callable[[], list[dict[str, Any]]], email: str) -> list[dict[str, Any]]:
    return [m for m in outbox() if email in str(m.get("to"))]


def body_text(message: dict[str, Any]) -> str:
    return str(message.get("body") or message.get("text") or message)


def sandbox_pay(stack: Any, session_id: str, email: str, card: str = "4242424242424242") -> dict[str, Any]:
    response = requests.post(f"{stack.stripe_url}/_sandbox/checkout/sessions/{session_id}/complete", timeout=30,
                             json={"email": email, "name": "Nora Paid", "card_number": card, "exp": "12/40",
                                   "cvc": "123"})
    assert response.status_code == 200, response.text
    return dict(response.json())


def pay_on_hosted_page(browser: Any, url: str, success_prefix: str, *, email: str | None, card: str) -> str:
    page = browser.new_page()
    page.set_default_timeout(15_000)
    try:
        page.goto(url)
        page.fill("#name", "Browser Buyer")
        if email and page.is_editable("#email"):
            page.fill("#email", email)
        page.fill("#card_number", card)
        page.fill("#exp", "12/34")
        page.fill("#cvc", "123")
        if card == "4000002500003155":  # 3-D Secure: the bank's page, then back to the success URL
            page.click("#pay")
            page.wait_for_url("**/3ds/pi_*")
            with page.expect_navigation(url=lambda target: target.startswith(success_prefix)):
                page.click("#complete")
        else:
            with page.expect_navigation(url=lambda target: target.startswith(success_prefix)):
                page.click("#pay")
        return str(page.url)
    finally:
        page.close()


# ------------------------------------------------------------------------------------------------ tests
def test_the_catalogue_is_seeded_and_public(api):
    response = api.get("/tracks")
    assert response.status_code == 200
    assert {(t["track_id"], t["price"]) for t in response.json()["items"]} == {("DP", 49900), ("FSD", 59900)}


def test_signed_in_payment_intent_declined_then_3ds_then_enrolled(api, stack, student, stripe_client, eventually,
                                                                 outbox):
    buyer, other = student(), student()
    refused = api.post("/tracks/DP/payment-intents", token=buyer["token"], json={"amount": 100})
    assert (refused.status_code, refused.json()["error"]["field"]) == (400, "amount")
    created = api.post("/tracks/DP/payment-intents", token=buyer["token"], json={})
    assert created.status_code == 201, created.text
    pi = created.json()["payment_intent_id"]
    assert created.json()["amount"] == 49900
    assert api.post("/tracks/DP/payment-intents", token=buyer["token"]).json()["payment_intent_id"] == pi

    # a declined card: the failure and Stripe's reason are recorded
    with pytest.raises(Exception, match="declined"):
        stripe_client.v1.payment_intents.confirm(pi, params={"payment_method": "pm_card_chargeDeclined"})
    failed = eventually(lambda: (p := payment(api, buyer["token"], pi))["status"] == "failed" and p)
    assert failed["failure_reason"].startswith("generic_decline")

    # 3-D Secure: requires_action until the customer authenticates
    intent = stripe_client.v1.payment_intents.confirm(pi, params={
        "payment_method": "pm_card_authenticationRequired", "return_url": f"{urls(stack)['success_url']}"})
    assert intent.status == "requires_action"
    done = requests.post(f"{stack.stripe_url}/_sandbox/payment_intents/{pi}/three_d_secure",
                         json={"result": "succeed"}, timeout=30)
    assert done.status_code == 200, done.text
    track = eventually(lambda: (t := my_track(api, buyer["token"], "DP")) and t["tools"]["state"] == "provisioned"
                       and t)
    assert (track["status"], track["has_access"]) == ("active", True)
    assert {s["state"] for s in track["projects"][0]["steps"]} == {"unlocked"}
    assert payment(api, buyer["token"], pi)["status"] == "succeeded"
    assert stripe_client.v1.payment_intents.retrieve(pi).amount_received == 49900

    # someone else's payment does not exist for them
    assert api.get(f"/payments/{pi}", token=other["token"]).status_code == 404
    welcome = eventually(lambda: mails_to(outbox, buyer["email"]))
    assert "Data Professional" in str(welcome[0])
    assert "temporary password" not in body_text(welcome[0])


@pytest.mark.browser
def test_signed_in_checkout_on_the_hosted_page(api, stack, student, browser, eventually):
    buyer = student()
    created = api.post("/tracks/FSD/checkout", token=buyer["token"], json=urls(stack))
    assert created.status_code == 201, created.text
    session = created.json()
    landed = pay_on_hosted_page(browser, session["url"], urls(stack)["success_url"], email=None,
                                card="4242 4242 4242 4242")
    assert f"session_id={session['session_id']}" in landed
    track = eventually(lambda: my_track(api, buyer["token"], "FSD"))
    assert track["payment_id"] == session["session_id"]
    # Enrollment and payment record are separate writes of one fulfilment: wait for both.
    assert eventually(lambda: payment(api, buyer["token"], session["session_id"])["status"] == "succeeded")


@pytest.mark.browser
def test_anonymous_purchase_creates_the_account_then_the_set_password_link_then_a_second_track(
        api, stack, browser, eventually, outbox, aws, stripe_client, login):
    email = f"payfirst-{uuid.uuid4().hex[:8]}@example.com"
    refused = api.post("/tracks/DP/signup-checkout", json=urls(stack))
    assert (refused.status_code, refused.json()["error"]["field"]) == (400, "accepted_terms_version")
    created = api.post("/tracks/DP/signup-checkout", json=signup_body(stack),
                       headers={"Idempotency-Key": uuid.uuid4().hex})
    assert created.status_code == 201, created.text
    session = created.json()
    assert api.get(f"/checkout/sessions/{session['session_id']}/verify").status_code == 202
    assert api.get("/checkout/sessions/cs_test_nope/verify").status_code == 404

    # in a real browser, with a 3-D Secure card
    landed = pay_on_hosted_page(browser, session["url"], urls(stack)["success_url"], email=email,
                                card="4000002500003155")
    assert session["session_id"] in landed

    def ready() -> dict[str, Any] | None:
        response = api.get(f"/checkout/sessions/{session['session_id']}/verify")
        assert response.status_code in (200, 202), response.text
        return response.json() if response.status_code == 200 else None

    verified = eventually(ready, timeout=30)
    assert verified["email"] == email
    assert not {"access_token", "id_token", "refresh_token"} & set(verified)

    # the welcome e-mail carries no password, only a single-use link to choose one
    [welcome] = eventually(lambda: [m for m in mails_to(outbox, email)
                                    if m.get("subject") == "Welcome to Data Professional"], timeout=30)
    assert "password:" not in body_text(welcome).lower()
    link = link_token(welcome)
    set_password = {"token": link, "new_password": NEW_PASSWORD}
    done = api.post("/auth/set-password", json=set_password)
    assert done.status_code == 200, done.text
    again = api.post("/auth/set-password", json={**set_password, "new_password": "An0therPassw0rd"})
    assert (again.status_code, again.json()["error"]["code"]) == (400, "token_used")
    token = login(email, NEW_PASSWORD)["access_token"]
    track = eventually(lambda: (t := my_track(api, token, "DP")) and t["tools"]["state"] == "provisioned" and t)
    assert track["status"] == "active"

    # the same e-mail buys FSD without signing in: same account, no new credentials
    second = api.post("/tracks/FSD/signup-checkout", json=signup_body(stack)).json()
    sandbox_pay(stack, second["session_id"], email)
    eventually(lambda: my_track(api, token, "FSD"), timeout=30)
    users = aws.client("cognito-idp").list_users(UserPoolId=aws.name("UserPool"), Filter=f'email = "{email}"')
    assert len(users["Users"]) == 1
    # receipts go to the same address too: pick the second track's welcome by its subject
    [welcome_back] = eventually(lambda: [m for m in mails_to(outbox, email)
                                         if m.get("subject") == "Welcome to Full-Stack Developer"], timeout=30)
    assert "existing password" in body_text(welcome_back)
    assert "?token=" not in body_text(welcome_back)
    assert api.post("/auth/login", json={"email": email, "password": NEW_PASSWORD}).status_code == 200


def test_refund_request_partial_approval_then_full_withdraws(api, stack, student, admin, stripe_client, eventually):
    buyer = student()
    pi = api.post("/tracks/DP/payment-intents", token=buyer["token"]).json()["payment_intent_id"]
    stripe_client.v1.payment_intents.confirm(pi, params={"payment_method": "pm_card_visa"})
    eventually(lambda: my_track(api, buyer["token"], "DP"))

    asked = api.post(f"/payments/{pi}/refund-requests", token=buyer["token"], json={"reason": "schedule clash"})
    assert asked.status_code == 201, asked.text
    queue = api.get("/admin/refund-requests?status=pending", token=admin).json()["items"]
    assert asked.json()["request_id"] in [r["request_id"] for r in queue]
    too_much = api.post(f"/admin/refund-requests/{asked.json()['request_id']}/approve", token=admin,
                        json={"amount": 49901})
    assert (too_much.status_code, too_much.json()["error"]["field"]) == (400, "amount")
    approved = api.post(f"/admin/refund-requests/{asked.json()['request_id']}/approve", token=admin,
                        json={"amount": 9900})
    assert approved.status_code == 200, approved.text
    assert api.post(f"/admin/refund-requests/{asked.json()['request_id']}/approve", token=admin,
                    json={"amount": 9900}).status_code == 409
    partial = eventually(lambda: (p := payment(api, buyer["token"], pi))["status"] == "partially_refunded" and p)
    assert partial["refunded_amount"] == 9900
    assert my_track(api, buyer["token"], "DP")["status"] == "active"

    rest = api.post(f"/payments/{pi}/refund-requests", token=buyer["token"], json={"reason": "the rest, please"})
    assert api.post(f"/admin/refund-requests/{rest.json()['request_id']}/approve", token=admin,
                    json={}).status_code == 200
    eventually(lambda: payment(api, buyer["token"], pi)["status"] == "refunded")
    track = eventually(lambda: (t := my_track(api, buyer["token"], "DP")) and t["status"] == "withdrawn" and t)
    assert track["has_access"] is False
    assert sum(r.amount for r in stripe_client.v1.refunds.list(params={"payment_intent": pi}).data) == 49900


def test_duplicated_and_shuffled_webhooks_enroll_once(api, stack, student, stripe_client, eventually, aws):
    chaos = f"{stack.stripe_url}/_sandbox/chaos"
    requests.post(chaos, json={"duplicate": True, "shuffle": True, "seed": 7}, timeout=10).raise_for_status()
    try:
        buyer = student()
        pi = api.post("/tracks/FSD/payment-intents", token=buyer["token"]).json()["payment_intent_id"]
        stripe_client.v1.payment_intents.confirm(pi, params={"payment_method": "pm_card_visa"})
        signup = api.post("/tracks/DP/signup-checkout", json=signup_body(stack)).json()
        email = f"chaos-{uuid.uuid4().hex[:8]}@example.com"
        sandbox_pay(stack, signup["session_id"], email)
        requests.post(f"{stack.stripe_url}/_sandbox/webhooks/flush", json={"timeout": 10}, timeout=15)
        eventually(lambda: my_track(api, buyer["token"], "FSD"), timeout=30)
        eventually(lambda: api.get(f"/checkout/sessions/{signup['session_id']}/verify").status_code == 200,
                   timeout=30)
    finally:
        requests.post(chaos, json={"duplicate": False, "shuffle": False}, timeout=10)
    audit = aws.table("AuditTable").scan()["Items"]
    created = [e for e in audit if e["action"] == "enrollment.created"
               and (buyer["user_id"] in e["pk"] or e["pk"].endswith("#track#DP"))]
    assert len([e for e in created if buyer["user_id"] in e["pk"]]) == 1
    users = aws.client("cognito-idp").list_users(UserPoolId=aws.name("UserPool"), Filter=f'email = "{email}"')
    assert len(users["Users"]) == 1
    user_id = next(a["Value"] for a in users["Users"][0]["Attributes"] if a["Name"] == "sub")
    assert len([e for e in created if user_id in e["pk"]]) == 1
