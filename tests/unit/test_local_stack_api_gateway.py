"""Local API Gateway: route selection, payload 2.0 events, response mapping, CORS, authorizer errors."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest

from local.stack.api_gateway import (
    ApiGateway,
    HttpRequest,
    Router,
    build_event,
    preflight_response,
    response_from_result,
)
from local.stack.jwt_authorizer import JwtAuthorizer
from local.stack.lambda_runtime import Invocation
from local.stack.sam import CorsSpec, HttpApiSpec, HttpRoute, JwtAuthorizerSpec

AUTH = JwtAuthorizerSpec(name="Jwt", issuer="https://issuer", audiences=("c",), identity_header="authorization")


def _route(key: str, function: str = "Fn", authorizer: JwtAuthorizerSpec | None = None) -> HttpRoute:
    method, path = key.split(" ", 1)
    return HttpRoute(method=method, path=path, function=function, authorizer=authorizer)


ROUTES = [
    _route("GET /gigs"),
    _route("GET /gigs/{gigId}"),
    _route("GET /gigs/featured"),
    _route("ANY /gigs/featured"),
    _route("GET /files/{proxy+}"),
    _route("GET /{proxy+}"),
    _route("POST /admin/users/{userId}/groups"),
]


@pytest.mark.parametrize(
    ("method", "path", "route_key", "parameters"),
    [
        ("GET", "/gigs", "GET /gigs", {}),
        ("GET", "/gigs/featured", "GET /gigs/featured", {}),  # literal beats {gigId}, GET beats ANY
        ("DELETE", "/gigs/featured", "ANY /gigs/featured", {}),
        ("GET", "/gigs/g%201", "GET /gigs/{gigId}", {"gigId": "g 1"}),
        ("GET", "/files/a/b/c.txt", "GET /files/{proxy+}", {"proxy": "a/b/c.txt"}),  # longer prefix wins
        ("GET", "/anything/else", "GET /{proxy+}", {"proxy": "anything/else"}),
        ("POST", "/admin/users/u-1/groups", "POST /admin/users/{userId}/groups", {"userId": "u-1"}),
    ],
)
def test_most_specific_route_wins(method: str, path: str, route_key: str, parameters: dict[str, str]) -> None:
    match = Router(ROUTES).match(method, path)
    assert match is not None
    assert (match.route.route_key, match.path_parameters) == (route_key, parameters)


@pytest.mark.parametrize(("method", "path"), [("POST", "/gigs"), ("GET", "/admin/users/u/groups"), ("GET", "/")])
def test_no_route(method: str, path: str) -> None:
    assert Router(ROUTES[:5]).match(method, path) is None


def test_event_has_the_payload_2_0_shape() -> None:
    body = '{"amount": 100, "note": "caf\u00e9"}'.encode()
    request = HttpRequest(
        method="POST",
        target="/admin/users/u-1/groups?a=1&b=2&a=3&empty=",
        headers=[
            ("Host", "localhost:3000"),
            ("Content-Type", "application/json; charset=utf-8"),
            ("User-Agent", "pytest"),
            ("X-Multi", "one"),
            ("x-multi", "two"),
            ("Cookie", "s=1; theme=dark"),
        ],
        body=body,
        source_ip="127.0.0.9",
    )
    match = Router(ROUTES).match("POST", "/admin/users/u-1/groups")
    assert match is not None
    event = build_event(
        request,
        match,
        api_id="api1",
        account_id="123456789012",
        request_id="rid",
        claims={"sub": "u"},
        now=1700000000.5,
    )
    assert event["version"] == "2.0"
    assert event["routeKey"] == "POST /admin/users/{userId}/groups"
    assert event["rawPath"] == "/admin/users/u-1/groups"
    assert event["rawQueryString"] == "a=1&b=2&a=3&empty="
    assert event["queryStringParameters"] == {"a": "1,3", "b": "2", "empty": ""}
    assert event["cookies"] == ["s=1", "theme=dark"]
    assert "cookie" not in event["headers"]
    assert event["headers"]["x-multi"] == "one,two"
    assert event["headers"]["content-type"] == "application/json; charset=utf-8"
    assert event["pathParameters"] == {"userId": "u-1"}
    assert event["body"].encode() == body  # byte-exact
    assert event["isBase64Encoded"] is False
    context = event["requestContext"]
    assert context["http"] == {
        "method": "POST",
        "path": "/admin/users/u-1/groups",
        "protocol": "HTTP/1.1",
        "sourceIp": "127.0.0.9",
        "userAgent": "pytest",
    }
    assert context["stage"] == "$default"
    assert context["routeKey"] == event["routeKey"]
    assert (context["accountId"], context["apiId"], context["requestId"]) == ("123456789012", "api1", "rid")
    assert context["domainName"] == "localhost:3000"
    assert context["time"] == "14/Nov/2023:22:13:20 +0000"
    assert context["timeEpoch"] == 1700000000500
    assert context["authorizer"] == {"jwt": {"claims": {"sub": "u"}, "scopes": None}}


def test_binary_and_untyped_bodies_are_base64_and_empty_bodies_absent() -> None:
    match = Router(ROUTES).match("GET", "/gigs")
    assert match is not None
    raw = bytes(range(256))
    event = build_event(
        HttpRequest("GET", "/gigs", [("content-type", "application/octet-stream")], raw),
        match,
        api_id="a",
        account_id="1",
        request_id="r",
    )
    assert event["isBase64Encoded"] is True
    assert base64.b64decode(event["body"]) == raw
    empty = build_event(HttpRequest("GET", "/gigs", []), match, api_id="a", account_id="1", request_id="r")
    assert "body" not in empty
    assert "queryStringParameters" not in empty
    assert "pathParameters" not in empty
    assert "authorizer" not in empty["requestContext"]


def test_structured_response() -> None:
    response = response_from_result(
        {
            "statusCode": 201,
            "headers": {"Content-Type": "application/json", "X-One": "1"},
            "multiValueHeaders": {"X-Many": ["a", "b"]},
            "cookies": ["a=1; Path=/", "b=2"],
            "body": '{"ok": true}',
        }
    )
    assert response.status == 201
    assert ("x-many", "a") in response.headers
    assert ("x-many", "b") in response.headers
    assert ("content-type", "application/json") in response.headers
    assert [value for name, value in response.headers if name == "set-cookie"] == ["a=1; Path=/", "b=2"]
    assert response.body == b'{"ok": true}'
    binary = response_from_result(
        {"statusCode": 200, "body": base64.b64encode(b"\x00\x01").decode(), "isBase64Encoded": True}
    )
    assert binary.body == b"\x00\x01"


@pytest.mark.parametrize(
    ("result", "body"),
    [({"message": "hi"}, b'{"message": "hi"}'), ("plain text", b"plain text"), ([1, 2], b"[1, 2]")],
)
def test_results_without_status_code_are_inferred_as_json_200(result: Any, body: bytes) -> None:
    response = response_from_result(result)
    assert (response.status, response.body) == (200, body)
    assert ("content-type", "application/json") in response.headers


CORS = CorsSpec(
    allow_origins=("http://localhost:8080",),
    allow_headers=("authorization", "content-type"),
    allow_methods=("GET", "POST"),
)


def test_preflight_for_an_allowed_origin() -> None:
    request = HttpRequest(
        "OPTIONS", "/gigs", [("Origin", "http://localhost:8080"), ("Access-Control-Request-Method", "POST")]
    )
    response = preflight_response(CORS, request)
    assert response.status == 204
    assert dict(response.headers)["access-control-allow-origin"] == "http://localhost:8080"
    assert dict(response.headers)["access-control-allow-methods"] == "GET,POST"
    other = HttpRequest(
        "OPTIONS", "/gigs", [("Origin", "http://evil.example"), ("Access-Control-Request-Method", "GET")]
    )
    assert "access-control-allow-origin" not in dict(preflight_response(CORS, other).headers)


class FakeRuntime:
    def __init__(self, invocation: Invocation | None = None) -> None:
        self.events: list[dict[str, Any]] = []
        self.invocation = invocation or Invocation("r", True, {"statusCode": 200, "body": "ok"}, 1.0)

    def __call__(self, function: str, event: dict[str, Any]) -> Invocation:
        self.events.append(event)
        return self.invocation


def _gateway(runtime: FakeRuntime) -> ApiGateway:
    routes = (_route("GET /open"), _route("GET /me", authorizer=AUTH))
    api = HttpApiSpec(logical_id="Api", api_id="api1", routes=routes, cors=CORS)
    authorizer = JwtAuthorizer(AUTH, lambda: {"keys": []})
    return ApiGateway(api, runtime, {"Jwt": authorizer}, account_id="1", log=lambda line: None)


def test_gateway_answers_like_api_gateway() -> None:
    runtime = FakeRuntime()
    gateway = _gateway(runtime)
    not_found = gateway.handle(HttpRequest("GET", "/nope", []))
    assert (not_found.status, json.loads(not_found.body)) == (404, {"message": "Not Found"})
    unauthorized = gateway.handle(HttpRequest("GET", "/me", [("Authorization", "Bearer x.y.z")]))
    assert (unauthorized.status, json.loads(unauthorized.body)) == (401, {"message": "Unauthorized"})
    assert runtime.events == []  # the function never ran
    ok = gateway.handle(HttpRequest("GET", "/open", [("Origin", "http://localhost:8080")]))
    assert (ok.status, ok.body) == (200, b"ok")
    assert dict(ok.headers)["access-control-allow-origin"] == "http://localhost:8080"
    assert "apigw-requestid" in dict(ok.headers)


@pytest.mark.parametrize("error_type", ["ValueError", "Sandbox.Timedout", "Runtime.ExitError"])
def test_function_errors_are_500(error_type: str) -> None:
    runtime = FakeRuntime(Invocation("r", False, {"errorType": error_type, "errorMessage": "boom"}, 1.0))
    response = _gateway(runtime).handle(HttpRequest("GET", "/open", []))
    assert (response.status, json.loads(response.body)) == (500, {"message": "Internal Server Error"})


def test_gateway_answers_preflights_once() -> None:
    runtime = FakeRuntime()
    request = HttpRequest(
        "OPTIONS", "/me", [("Origin", "http://localhost:8080"), ("Access-Control-Request-Method", "GET")]
    )
    response = _gateway(runtime).handle(request)
    assert response.status == 204
    assert [value for name, value in response.headers if name == "access-control-allow-origin"] == [
        "http://localhost:8080"
    ]
    assert runtime.events == []
