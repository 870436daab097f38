"""Bad requests are 4xx in the one error shape, never 500s nor stored as sent (issue 11, "Found"): bodies that are
not UTF-8, link tokens of any length, a student on a teacher route, loose booleans, control characters in free
text, the refund queue's paging and fulfilment of a session Stripe never made."""

from __future__ import annotations

import base64

import pytest

from coursepay.refunds.repository import RefundRequest, RefundRequestsRepository
from tests.support.api_events import body_of, http_event
from tests.support.course_market import STUDENT, TEACHER, Market, claims, running_sandbox
from tests.support.tracks import call, new_student

pytest_plugins = ("tests.support.accounts_fixtures", "tests.support.tracks_fixtures")

NOT_UTF8 = b'{"name": "caf\xe9"}'  # Latin-1, as some clients send form data


@pytest.fixture
def market(load_function, monkeypatch, lambda_context):
    with running_sandbox() as sandbox:
        yield Market(load_function, monkeypatch, sandbox, lambda_context)


def assert_error(response, status, field):
    body = body_of(response)
    assert response["statusCode"] == status, body
    assert set(body) == {"error"}
    assert set(body["error"]) == {"code", "message", "field"}
    assert body["error"]["field"] == field


def raw_event(method, path, route, raw, user=None):
    event = http_event(method, path, route=route, claims=claims(user) if user else None)
    event["body"], event["isBase64Encoded"] = base64.b64encode(raw).decode(), True
    return event


@pytest.mark.parametrize(("function", "path", "route", "user"), [
    ("accounts", "/auth/register", None, None),
    ("accounts", "/auth/login", None, None),
    ("accounts", "/auth/set-password", None, None),
    ("courses", "/courses", None, TEACHER),
    ("courses", "/courses/c1", "/courses/{courseId}", TEACHER),
    ("checkout", "/courses/c1/checkout", "/courses/{courseId}/checkout", STUDENT),
    ("checkout", "/subscriptions/sub_1/cancel", "/subscriptions/{subscriptionId}/cancel", STUDENT),
])
def test_a_body_that_is_not_utf8_is_a_400_naming_the_body(market, accounts, lambda_context, function, path, route,
                                                          user):
    module = {"accounts": accounts, "courses": market.courses, "checkout": market.checkout}[function]
    method = "PATCH" if path == "/courses/c1" else "POST"
    response = module.lambda_handler(raw_event(method, path, route, NOT_UTF8, user), lambda_context)
    assert_error(response, 400, "body")


@pytest.mark.parametrize("path", ["/tracks/DP/signup-checkout", "/payments/pi_1/refund-requests"])
def test_the_payments_routes_refuse_a_body_that_is_not_utf8(payments, aws, lambda_context, path):
    route = "/tracks/{trackId}/signup-checkout" if "tracks" in path else "/payments/{paymentId}/refund-requests"
    event = raw_event("POST", path, route, NOT_UTF8)
    event["requestContext"]["authorizer"] = {"jwt": {"claims": new_student(aws).claims, "scopes": None}}
    assert_error(payments.lambda_handler(event, lambda_context), 400, "body")


@pytest.mark.parametrize(("path", "field", "value"), [
    ("/auth/set-password", "token", ""), ("/auth/set-password", "token", "x"),
    ("/auth/set-password", "token", "x" * 100_000),
    ("/auth/verify-email", "token", "x"), ("/auth/verify-email", "token", "x" * 100_000),
    ("/auth/refresh", "refresh_token", ""), ("/auth/refresh", "refresh_token", "x" * 100_000),
])
def test_link_and_refresh_tokens_of_any_length_are_a_400(accounts, lambda_context, path, field, value):
    body = {field: value, **({"new_password": "Str0ngPassword"} if path == "/auth/set-password" else {})}
    assert_error(accounts.lambda_handler(http_event("POST", path, body=body), lambda_context), 400, field)


def test_a_student_may_not_read_the_teachers_view_of_a_course(market):
    course = market.create_course()
    route = "/teacher/courses/{courseId}"
    status, body = market.call(market.courses, "GET", f"/teacher/courses/{course['course_id']}", route=route,
                               user=STUDENT)
    assert (status, body["error"]["code"]) == (403, "forbidden")
    status, body = market.call(market.courses, "GET", f"/teacher/courses/{course['course_id']}", route=route,
                               user=TEACHER)
    assert status == 200
    assert "price_history" in body


@pytest.mark.parametrize("value", ["yes", "true", 1, None])
def test_at_period_end_takes_only_a_json_boolean(market, value):
    status, body = market.call(market.checkout, "POST", "/subscriptions/sub_1/cancel",
                               route="/subscriptions/{subscriptionId}/cancel", user=STUDENT,
                               body={"at_period_end": value})
    assert (status, body["error"]["field"]) == (400, "at_period_end")


@pytest.mark.parametrize("bad", ["\x00", "\u202e", "\u2066", "\u200f", "\x1b[31m"])
def test_free_text_with_control_characters_is_refused_in_every_model(market, accounts, payments, aws,
                                                                       lambda_context, bad):
    text = f"Ada{bad}gnp.exe"
    for field, value in (("title", text), ("description", text), ("outline", [text])):
        status, body = market.call(market.courses, "POST", "/courses", user=TEACHER,
                                   body={"title": "Python", "currency": "usd", "monthly_price": 1500, field: value})
        assert (status, body["error"]["field"]) == (400, field if field != "outline" else "outline.0")
    response = accounts.lambda_handler(http_event("POST", "/auth/register", body={
        "email": "ada@example.com", "password": "Str0ngPassword", "name": text, "accepted_terms_version": "x"}),
        lambda_context)
    assert_error(response, 400, "name")
    status, body = call(payments, lambda_context, "POST", "/payments/pi_1/refund-requests",
                        route="/payments/{paymentId}/refund-requests", who=new_student(aws), body={"reason": text})
    assert (status, body["error"]["field"]) == (400, "reason")


def test_multi_line_text_keeps_its_line_breaks(market):
    course = market.create_course(description="Loops\nTurtles\tand games")
    assert course["description"] == "Loops\nTurtles\tand games"


def test_the_refund_queue_pages_with_limit_and_cursor(payments, aws, lambda_context):
    requests = RefundRequestsRepository(aws.name("PaymentsTable"))
    for number in range(5):
        requests.create(RefundRequest(request_id=f"rr_{number}", payment_id=f"pi_{number}", user_id="u1",
                                      reason="not for me", amount_paid=49900, currency="usd",
                                      refundable_at_request=49900, requested_at=f"2026-01-0{number + 1}T00:00:00Z"))
    admin = new_student(aws, "Ada", "admins")
    seen, cursor, pages = [], None, 0
    while True:
        query = {"limit": "2", **({"cursor": cursor} if cursor else {})}
        status, page = call(payments, lambda_context, "GET", "/admin/refund-requests", who=admin, query=query)
        assert status == 200, page
        assert len(page["items"]) <= 2
        seen += [item["request_id"] for item in page["items"]]
        pages, cursor = pages + 1, page["next_cursor"]
        if cursor is None:
            break
    assert seen == [f"rr_{number}" for number in range(5)]
    assert pages == 3

    for query, field in (({"limit": "0"}, "limit"), ({"limit": "many"}, "limit"), ({"cursor": "nonsense"}, "cursor"),
                         ({"limt": "2"}, "limt")):
        status, body = call(payments, lambda_context, "GET", "/admin/refund-requests", who=admin, query=query)
        assert (status, body["error"]["field"]) == (400, field)


def test_an_unknown_query_parameter_is_a_400_naming_it_on_the_catalogue_too(market):
    status, body = market.call(market.courses, "GET", "/courses", query={"limit": "2", "limt": "5"})
    assert (status, body["error"]["field"]) == (400, "limt")
    assert body["error"]["message"] == "limt: this field is not accepted"
    assert market.call(market.courses, "GET", "/courses", query={"limit": "2"})[0] == 200


def every_query_model() -> list[type]:
    """Every route's query model: the subclasses of coursepay.views.Query in the modules the handlers import."""
    import importlib

    from coursepay.views import Query

    for module in ("coursepay.courses.models", "coursepay.refunds.views", "coursepay.billing.admin_views",
                   "coursepay.bookings.requests", "coursepay.bookings.booking_requests"):
        importlib.import_module(module)
    found: dict[type, None] = {}  # in order, once each (PaymentSearchQuery is both a PageQuery and a PeriodQuery)
    todo = [Query]
    while todo:
        for subclass in todo.pop().__subclasses__():
            found.setdefault(subclass)
            todo.append(subclass)
    return list(found)


@pytest.mark.parametrize("model", every_query_model(), ids=lambda model: model.__name__)
def test_every_query_model_refuses_a_parameter_it_does_not_know(model):
    from coursepay.api.request_parsing import parse_model
    from coursepay.errors import InvalidRequest

    with pytest.raises(InvalidRequest) as refused:
        parse_model(model, {"no_such_parameter": "1"})
    assert refused.value.field == "no_such_parameter"


def test_fulfilling_a_session_stripe_never_made_is_a_404(market: Market):
    status, body = market.call(market.checkout, "POST", "/checkout/sessions/cs_test_nosuchsession/fulfil",
                               route="/checkout/sessions/{sessionId}/fulfil", user=STUDENT)
    assert (status, body["error"]["field"]) == (404, "sessionId")
