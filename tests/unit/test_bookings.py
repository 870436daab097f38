"""Teachers' side of the tutoring marketplace (bookings function + fulfilment's account.updated): payout
onboarding with Stripe Connect, gig management and public browsing. moto + the Stripe sandbox in-process."""

from __future__ import annotations

import urllib.parse
import urllib.request

import pytest

from coursepay.settings import load_settings
from tests.support.api_events import body_of, claims_for, http_event
from tests.support.course_market import ORIGIN, Market, running_sandbox

TEACHER, OTHER_TEACHER, ADMIN, STUDENT = "teacher-1", "teacher-2", "admin-1", "student-1"
GIG = {"title": "Algebra, step by step", "description": "Equations without fear", "subject": "maths",
       "language": "en", "hourly_rate": 5000, "currency": "usd", "durations": [60, 30, 90],
       "time_zone": "Europe/Berlin", "availability": [{"weekday": 0, "start": "09:00", "end": "12:00"},
                                                      {"weekday": 2, "start": "14:00", "end": "18:30"}],
       "min_notice_hours": 12}
ONBOARDING = {"refresh_url": f"{ORIGIN}/payouts/refresh", "return_url": f"{ORIGIN}/payouts/done"}


class Tutoring:
    def __init__(self, market: Market) -> None:
        self.market = market
        self.bookings = market.market_function("BookingsFunction", "bookings")

    def call(self, method, path, *, route=None, user=None, body=None, query=None, headers=None):
        group = "teachers" if user and user.startswith("teacher") else "admins" if user == ADMIN else "students"
        event = http_event(method, path, route=route, body=body, query=query, headers=headers,
                           claims=claims_for(user, group) if user else None)
        response = self.bookings.lambda_handler(event, self.market.context)
        return response["statusCode"], body_of(response)

    def create(self, user=TEACHER, **overrides):
        status, body = self.call("POST", "/teacher/gigs", user=user, body={**GIG, **overrides})
        assert status == 201, body
        return body

    def act(self, gig_id, action, user=TEACHER):
        return self.call("POST", f"/teacher/gigs/{gig_id}/{action}", route=f"/teacher/gigs/{{gigId}}/{action}",
                         user=user)

    def onboard(self, user=TEACHER):
        """Start onboarding, submit Stripe's hosted form, deliver the account.updated events to fulfilment."""
        status, started = self.call("POST", "/teacher/payouts/onboarding", user=user, body=ONBOARDING)
        assert status == 201, started
        form = {"business_type": "individual", "first_name": "Ada", "last_name": "Lovelace",
                "email": "ada@example.com", "dob": "1985-12-10", "ssn_last_4": "0000",
                "business_url": "https://ada.example", "routing_number": "110000000",
                "account_number": "000123456789", "tos": "accept"}
        request = urllib.request.Request(started["url"], data=urllib.parse.urlencode(form).encode(), method="POST")
        opener = urllib.request.build_opener(_NoRedirect)
        with pytest.raises(urllib.error.HTTPError) as redirect:
            opener.open(request, timeout=10)
        assert redirect.value.code == 303
        assert redirect.value.headers["Location"] == ONBOARDING["return_url"]
        events = self.account_events(started["account_id"])
        assert events, "onboarding emits account.updated"
        self.market.deliver(events)
        return started

    def account_events(self, account_id):
        """The connected account's events (not the platform's), oldest first, as the relay hands them on."""
        listed = self.market.stripe().v1.events.list(params={"type": "account.updated"},
                                                      options={"stripe_account": account_id}).data
        return sorted((event.to_dict() for event in listed), key=lambda event: event["created"])


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):  # the return URL is the frontend's, not reachable here
        return None


@pytest.fixture
def tutoring(load_function, monkeypatch, lambda_context):
    with running_sandbox() as sandbox:
        market = Market(load_function, monkeypatch, sandbox, lambda_context)
        market.market_function = load_function  # type: ignore[attr-defined]
        tutoring = Tutoring(market)
        monkeypatch.setenv("STRIPE_API_BASE", sandbox.url)
        monkeypatch.setenv("ALLOWED_REDIRECT_ORIGINS", ORIGIN)
        load_settings.cache_clear()
        yield tutoring


def audit_actions(aws, entity):
    items = aws.table("AuditTable").query(KeyConditionExpression="pk = :pk",
                                          ExpressionAttributeValues={":pk": entity})["Items"]
    return [item["action"] for item in sorted(items, key=lambda i: i["sk"])]


# ---------------------------------------------------------------------- payouts
def test_onboarding_creates_one_express_account_and_a_fresh_link_each_time(tutoring, aws):
    status, first = tutoring.call("POST", "/teacher/payouts/onboarding", user=TEACHER, body=ONBOARDING)
    assert status == 201
    status, again = tutoring.call("POST", "/teacher/payouts/onboarding", user=TEACHER, body=ONBOARDING)
    assert status == 201
    assert first["account_id"] == again["account_id"]
    assert first["url"] != again["url"]
    assert "/connect/onboarding/" in first["url"]
    stripe = tutoring.market.stripe()
    [account] = stripe.v1.accounts.list().data
    assert (account.id, account.type, account.metadata.to_dict()) == (first["account_id"], "express",
                                                                      {"teacher_id": TEACHER})
    status, state = tutoring.call("GET", "/teacher/payouts", user=TEACHER)
    assert status == 200
    assert (state["charges_enabled"], state["payouts_enabled"], state["details_submitted"]) == (False, False, False)
    assert "external_account" in state["requirements_due"]
    assert audit_actions(aws, f"payouts#{TEACHER}") == ["payouts.account_created"]


@pytest.mark.parametrize(("body", "field"), [
    ({**ONBOARDING, "return_url": "https://evil.example/x"}, "return_url"),
    ({**ONBOARDING, "refresh_url": "javascript:alert(1)"}, "refresh_url"),
    ({"return_url": ONBOARDING["return_url"]}, "refresh_url"),
])
def test_onboarding_redirects_must_be_on_an_allowed_origin(tutoring, body, field):
    status, error = tutoring.call("POST", "/teacher/payouts/onboarding", user=TEACHER, body=body)
    assert (status, error["error"]["field"]) == (400, field)


def test_payout_routes_are_for_teachers(tutoring):
    assert tutoring.call("POST", "/teacher/payouts/onboarding", user=STUDENT, body=ONBOARDING)[0] == 403
    assert tutoring.call("GET", "/teacher/payouts")[0] == 401
    assert tutoring.call("GET", "/teacher/payouts", user=TEACHER)[0] == 404  # not started


def test_account_updated_enables_payouts_and_an_older_event_does_not_undo_it(tutoring, aws):
    assert tutoring.call("POST", "/teacher/payouts/login-link", user=TEACHER)[0] == 404
    tutoring.onboard()
    status, state = tutoring.call("GET", "/teacher/payouts", user=TEACHER)
    assert (state["charges_enabled"], state["payouts_enabled"], state["details_submitted"]) == (True, True, True)
    assert state["requirements_due"] == []
    assert audit_actions(aws, f"payouts#{TEACHER}") == ["payouts.account_created", "payouts.account_updated"]

    event = tutoring.account_events(tutoring.call("GET", "/teacher/payouts", user=TEACHER)[1]["account_id"])[-1]
    assert event["account"] == state["account_id"]
    stale = {**event, "id": "evt_stale", "created": event["created"] - 60,
             "data": {**event["data"], "object": {**event["data"]["object"], "payouts_enabled": False,
                                                 "charges_enabled": False}}}
    tutoring.market.deliver([stale])
    status, state = tutoring.call("GET", "/teacher/payouts", user=TEACHER)
    assert (state["charges_enabled"], state["payouts_enabled"]) == (True, True)
    newer = {**stale, "id": "evt_newer", "created": event["created"] + 60}
    tutoring.market.deliver([newer])
    status, state = tutoring.call("GET", "/teacher/payouts", user=TEACHER)
    assert (state["charges_enabled"], state["payouts_enabled"]) == (False, False)

    status, link = tutoring.call("POST", "/teacher/payouts/login-link", user=TEACHER)
    assert status == 201
    assert "/connect/express/" in link["url"]


def test_a_same_second_event_with_another_state_is_settled_by_reading_the_account(tutoring):
    tutoring.onboard()
    account_id = tutoring.call("GET", "/teacher/payouts", user=TEACHER)[1]["account_id"]
    event = tutoring.account_events(account_id)[-1]
    disabled = {**event, "id": "evt_disabled", "created": event["created"] + 60,
                "data": {**event["data"], "object": {**event["data"]["object"], "payouts_enabled": False}}}
    tutoring.market.deliver([disabled])
    assert tutoring.call("GET", "/teacher/payouts", user=TEACHER)[1]["payouts_enabled"] is False
    # the same second, another state: created cannot order them, Stripe's account (onboarded) decides
    tie = {**event, "id": "evt_tie", "created": disabled["created"]}
    tutoring.market.deliver([tie])
    assert tutoring.call("GET", "/teacher/payouts", user=TEACHER)[1]["payouts_enabled"] is True


def test_account_updated_of_an_unknown_account_is_acknowledged(tutoring):
    result = tutoring.market.deliver([{"id": "evt_x", "type": "account.updated", "created": 1, "account": "acct_x",
                                       "data": {"object": {"id": "acct_x", "payouts_enabled": True}}}])
    assert result == {"batchItemFailures": []}


# ---------------------------------------------------------------------- gigs
def test_a_teacher_creates_a_draft_that_is_not_public_until_published(tutoring, aws):
    gig = tutoring.create()
    assert (gig["status"], gig["teacher_id"], gig["durations"], gig["version"]) == ("draft", TEACHER,
                                                                                    [30, 60, 90], 1)
    assert tutoring.call("GET", "/gigs")[1]["items"] == []
    assert tutoring.call("GET", f"/gigs/{gig['gig_id']}", route="/gigs/{gigId}")[0] == 404

    status, refused = tutoring.act(gig["gig_id"], "publish")
    assert status == 409
    assert refused["error"]["code"] == "payouts_not_enabled"
    assert "payout onboarding" in refused["error"]["message"]
    tutoring.call("POST", "/teacher/payouts/onboarding", user=TEACHER, body=ONBOARDING)
    status, refused = tutoring.act(gig["gig_id"], "publish")
    assert status == 409
    assert "not enabled yet" in refused["error"]["message"]

    tutoring.onboard()
    status, published = tutoring.act(gig["gig_id"], "publish")
    assert (status, published["status"]) == (200, "active")
    listed = tutoring.call("GET", "/gigs")[1]
    assert [g["gig_id"] for g in listed["items"]] == [gig["gig_id"]]
    assert listed["next_cursor"] is None
    assert "version" not in listed["items"][0]
    assert audit_actions(aws, f"gig#{gig['gig_id']}") == ["gig.created", "gig.active"]


def test_pause_archive_and_edit_rules(tutoring, aws):
    tutoring.onboard()
    gig = tutoring.create()
    gig_id, route = gig["gig_id"], "/teacher/gigs/{gigId}"
    assert tutoring.act(gig_id, "pause")[0] == 409  # a draft is not active
    tutoring.act(gig_id, "publish")
    status, paused = tutoring.act(gig_id, "pause")
    assert (status, paused["status"]) == (200, "paused")
    assert tutoring.call("GET", "/gigs")[1]["items"] == []

    status, edited = tutoring.call("PATCH", f"/teacher/gigs/{gig_id}", route=route, user=TEACHER,
                                   body={"version": paused["version"], "hourly_rate": 6000})
    assert (status, edited["hourly_rate"], edited["title"]) == (200, 6000, GIG["title"])
    status, stale = tutoring.call("PATCH", f"/teacher/gigs/{gig_id}", route=route, user=TEACHER,
                                  body={"version": paused["version"], "title": "Lost update"})
    assert (status, stale["error"]["field"]) == (409, "version")

    assert tutoring.act(gig_id, "archive")[1]["status"] == "archived"
    assert tutoring.act(gig_id, "publish")[0] == 409
    status, _ = tutoring.call("PATCH", f"/teacher/gigs/{gig_id}", route=route, user=TEACHER,
                              body={"version": 5, "title": "x"})
    assert status == 409
    assert audit_actions(aws, f"gig#{gig_id}") == ["gig.created", "gig.active", "gig.paused", "gig.updated",
                                                    "gig.archived"]


def test_another_teacher_gets_404_for_a_draft_and_403_for_an_active_gig_admins_may_act(tutoring):
    tutoring.onboard()
    gig = tutoring.create()
    gig_id = gig["gig_id"]
    assert tutoring.act(gig_id, "publish", user=OTHER_TEACHER)[0] == 404
    tutoring.act(gig_id, "publish")
    assert tutoring.act(gig_id, "pause", user=OTHER_TEACHER)[0] == 403
    status, paused = tutoring.act(gig_id, "pause", user=ADMIN)
    assert (status, paused["status"]) == (200, "paused")
    assert tutoring.call("POST", "/teacher/gigs", user=STUDENT, body=GIG)[0] == 403
    assert tutoring.call("GET", "/teacher/gigs", user=OTHER_TEACHER)[1]["items"] == []
    assert [g["gig_id"] for g in tutoring.call("GET", "/teacher/gigs", user=TEACHER)[1]["items"]] == [gig_id]


def test_the_same_idempotency_key_makes_one_gig(tutoring):
    headers = {"Idempotency-Key": "k-1"}
    first = tutoring.call("POST", "/teacher/gigs", user=TEACHER, body=GIG, headers=headers)[1]
    second = tutoring.call("POST", "/teacher/gigs", user=TEACHER, body=GIG, headers=headers)[1]
    assert first["gig_id"] == second["gig_id"]
    assert len(tutoring.call("GET", "/teacher/gigs", user=TEACHER)[1]["items"]) == 1


@pytest.mark.parametrize(("changes", "field"), [
    ({"title": ""}, "title"),
    ({"subject": "Maths!"}, "subject"),
    ({"language": "english"}, "language"),
    ({"hourly_rate": 499}, "hourly_rate"),
    ({"hourly_rate": 100_001}, "hourly_rate"),
    ({"hourly_rate": 50.5}, "hourly_rate"),
    ({"currency": "jpy"}, "currency"),
    ({"durations": [60, 75]}, "durations"),
    ({"durations": []}, "durations"),
    ({"time_zone": "Mars/Olympus"}, "time_zone"),
    ({"availability": [{"weekday": 7, "start": "09:00", "end": "10:00"}]}, "availability.0.weekday"),
    ({"availability": [{"weekday": 1, "start": "11:00", "end": "10:00"}]}, "availability"),
    ({"availability": [{"weekday": 1, "start": "09:00", "end": "11:00"},
                       {"weekday": 1, "start": "10:00", "end": "12:00"}]}, "availability"),
    ({"availability": [{"weekday": 1, "start": "9am", "end": "10:00"}]}, "availability"),
    ({"availability": []}, "availability"),
    ({"min_notice_hours": -1}, "min_notice_hours"),
    ({"amount": 100}, "amount"),
])
def test_bad_gig_input_is_a_400_naming_the_field(tutoring, changes, field):
    status, error = tutoring.call("POST", "/teacher/gigs", user=TEACHER, body={**GIG, **changes})
    assert status == 400, error
    assert error["error"]["field"] == field


def test_an_edit_must_change_something_and_may_not_null_a_field(tutoring):
    gig = tutoring.create()
    route = "/teacher/gigs/{gigId}"
    for body, field in (({"version": 1}, "body"), ({"version": 1, "title": None}, "title")):
        status, error = tutoring.call("PATCH", f"/teacher/gigs/{gig['gig_id']}", route=route, user=TEACHER, body=body)
        assert (status, error["error"]["field"]) == (400, field)


# ---------------------------------------------------------------------- browsing
@pytest.fixture
def catalogue(tutoring):
    tutoring.onboard(TEACHER)
    tutoring.onboard(OTHER_TEACHER)
    made = {}
    for user, name, subject, rate, currency in ((TEACHER, "a", "maths", 3000, "usd"),
                                                (TEACHER, "b", "physics", 6000, "usd"),
                                                (OTHER_TEACHER, "c", "maths", 9000, "usd"),
                                                (OTHER_TEACHER, "d", "maths", 4000, "eur")):
        gig = tutoring.create(user=user, title=name, subject=subject, hourly_rate=rate, currency=currency)
        tutoring.act(gig["gig_id"], "publish", user=user)
        made[name] = gig["gig_id"]
    tutoring.create(title="draft", subject="maths")
    return made


def _titles(tutoring, **query):
    status, page = tutoring.call("GET", "/gigs", query={k: str(v) for k, v in query.items()})
    assert status == 200, page
    return [g["title"] for g in page["items"]]


def test_browsing_filters(tutoring, catalogue):
    assert _titles(tutoring) == ["d", "c", "b", "a"]
    assert _titles(tutoring, subject="maths") == ["d", "c", "a"]
    assert _titles(tutoring, teacher_id=TEACHER) == ["b", "a"]
    assert _titles(tutoring, teacher_id=OTHER_TEACHER, subject="maths") == ["d", "c"]
    assert _titles(tutoring, currency="usd", min_rate=4000) == ["c", "b"]
    assert _titles(tutoring, currency="usd", max_rate=6000, subject="maths") == ["a"]
    assert _titles(tutoring, currency="eur") == ["d"]


def test_browsing_pages_with_a_cursor(tutoring, catalogue):
    first = tutoring.call("GET", "/gigs", query={"limit": "3"})[1]
    assert [g["title"] for g in first["items"]] == ["d", "c", "b"]
    rest = tutoring.call("GET", "/gigs", query={"limit": "3", "cursor": first["next_cursor"]})[1]
    assert [g["title"] for g in rest["items"]] == ["a"]


@pytest.mark.parametrize(("query", "field"), [
    ({"min_rate": "100"}, "currency"), ({"currency": "usd", "min_rate": "9", "max_rate": "1"}, "min_rate"),
    ({"cursor": "not-a-cursor"}, "cursor"), ({"limit": "0"}, "limit"), ({"colour": "red"}, "colour"),
])
def test_bad_browsing_queries_are_400(tutoring, query, field):
    status, error = tutoring.call("GET", "/gigs", query=query)
    assert (status, error["error"]["field"]) == (400, field)


def test_one_gig_and_a_teacher_profile_show_active_gigs_only(tutoring, catalogue):
    status, gig = tutoring.call("GET", f"/gigs/{catalogue['a']}", route="/gigs/{gigId}")
    assert (status, gig["title"], gig["time_zone"]) == (200, "a", "Europe/Berlin")
    tutoring.act(catalogue["b"], "pause")
    status, profile = tutoring.call("GET", f"/teachers/{TEACHER}", route="/teachers/{teacherId}")
    assert (status, [g["title"] for g in profile["gigs"]]) == (200, ["a"])
    assert tutoring.call("GET", "/teachers/nobody", route="/teachers/{teacherId}")[0] == 404
