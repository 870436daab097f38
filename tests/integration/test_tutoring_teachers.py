"""Tutoring marketplace, teachers' side, through the local stack: a teacher onboards on Stripe's hosted
onboarding page in a real browser, the Connect endpoint's account.updated (webhook -> relay -> bus -> SQS ->
fulfilment) enables payouts, and the gig they publish shows in the public list; the seeded demo tutor."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

GIG = {"title": "Chemistry for exams", "subject": "chemistry", "language": "en", "hourly_rate": 4500,
       "currency": "usd", "durations": [60], "time_zone": "Europe/London", "min_notice_hours": 6,
       "availability": [{"weekday": 3, "start": "16:00", "end": "19:00"}]}


def onboard_in_browser(browser: Any, url: str, return_url: str) -> None:
    context = browser.new_context()
    page = context.new_page()
    page.set_default_timeout(15_000)
    try:
        page.goto(url)
        page.select_option("#business_type", "individual")
        page.fill("#first_name", "Tess")
        page.fill("#last_name", "Teacher")
        page.fill("#email", "teacher@coursepay.local")
        page.fill("#dob", "1980-04-01")
        page.fill("#ssn_last_4", "0000")
        page.fill("#business_url", "https://tess.example")
        page.fill("#routing_number", "110000000")
        page.fill("#account_number", "000123456789")
        page.check("#tos")
        with page.expect_navigation(url=lambda target: target.startswith(return_url)):
            page.click("#submit")
    finally:
        context.close()


@pytest.mark.browser
def test_a_teacher_onboards_in_the_browser_and_publishes_a_gig(api, stack, login, browser, eventually):
    teacher = login("teacher@coursepay.local")
    token, teacher_id = teacher["access_token"], api.get("/me", token=teacher["access_token"]).json()["user_id"]
    gig = api.post("/teacher/gigs", token=token, json=GIG, headers={"Idempotency-Key": uuid.uuid4().hex}).json()
    refused = api.post(f"/teacher/gigs/{gig['gig_id']}/publish", token=token)
    assert refused.status_code == 409
    assert refused.json()["error"]["code"] == "payouts_not_enabled"

    origin = str(stack.api_url).rstrip("/")
    started = api.post("/teacher/payouts/onboarding", token=token,
                       json={"refresh_url": f"{origin}/payouts", "return_url": f"{origin}/payouts/done"})
    assert started.status_code == 201, started.text
    onboard_in_browser(browser, started.json()["url"], f"{origin}/payouts/done")

    state = eventually(lambda: (s := api.get("/teacher/payouts", token=token).json())["payouts_enabled"] and s,
                       timeout=30)
    assert (state["charges_enabled"], state["details_submitted"], state["requirements_due"]) == (True, True, [])
    published = api.post(f"/teacher/gigs/{gig['gig_id']}/publish", token=token)
    assert (published.status_code, published.json()["status"]) == (200, "active")
    listed = api.get("/gigs", params={"teacher_id": teacher_id}).json()
    assert [g["gig_id"] for g in listed["items"]] == [gig["gig_id"]]
    profile = api.get(f"/teachers/{teacher_id}").json()
    assert [g["title"] for g in profile["gigs"]] == [GIG["title"]]
    assert api.post("/teacher/payouts/login-link", token=token).status_code == 201


def test_the_demo_tutor_is_onboarded_with_two_active_gigs(api, login):
    token = login("tutor@coursepay.local")["access_token"]
    payouts = api.get("/teacher/payouts", token=token).json()
    assert (payouts["charges_enabled"], payouts["payouts_enabled"]) == (True, True)
    tutor_id = api.get("/me", token=token).json()["user_id"]
    gigs = api.get("/gigs", params={"teacher_id": tutor_id}).json()["items"]
    assert sorted(g["title"] for g in gigs) == ["Algebra, step by step", "Conversational Spanish"]
