"""Abuse limits: template.yaml's HTTP API throttling (default, /auth/*, the anonymous sign-up checkout, the
webhooks), and the local stack enforcing those same limits - a token bucket per route, 429 past it."""

from __future__ import annotations

import json
from typing import Any

import pytest

from local.stack.api_gateway import ApiGateway, HttpRequest
from local.stack.lambda_runtime import Invocation
from local.stack.sam import HttpApiSpec, build_model
from local.stack.template import DEFAULT_TEMPLATE, Resolver, load_template
from local.stack.throttling import ThrottleLimit


def template_api(overrides: dict[str, Any] | None = None) -> HttpApiSpec:
    template = load_template(DEFAULT_TEMPLATE)
    return build_model(template, Resolver.with_stand_in_ids(template, overrides)).http_apis["HttpApi"]


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def gateway(api: HttpApiSpec, clock: Clock, calls: list[str]) -> ApiGateway:
    def invoke(function: str, event: dict[str, Any]) -> Invocation:
        calls.append(event["routeKey"])
        return Invocation("r", True, {"statusCode": 200, "body": "{}"}, 1.0)

    return ApiGateway(api, invoke, {}, account_id="1", log=lambda line: None, clock=clock)


def post(path: str) -> HttpRequest:
    return HttpRequest("POST", path, [("content-type", "application/json")], b"{}")


def test_every_anonymous_route_that_costs_money_or_mail_has_a_stricter_limit_than_the_default() -> None:
    api = template_api()
    default = api.throttle.default
    assert default == ThrottleLimit(rate=50.0, burst=100)
    strict = {route.route_key for route in api.routes
              if route.route_key.startswith("POST /auth/") or route.route_key.startswith("POST /webhooks/")
              or route.route_key == "POST /tracks/{trackId}/signup-checkout"}
    assert len(strict) == 10
    for route_key in strict:
        limit = api.throttle.limit_for(route_key)
        assert limit is not None
        assert (limit.rate, limit.burst) < (default.rate, default.burst), route_key
    assert api.throttle.limit_for("POST /auth/login") == ThrottleLimit(rate=5.0, burst=10)
    assert api.throttle.limit_for("POST /tracks/{trackId}/signup-checkout") == ThrottleLimit(rate=2.0, burst=5)
    # every route setting names a route of the template (API Gateway refuses a stage naming an unknown one)
    assert set(api.throttle.per_route) <= {route.route_key for route in api.routes}


def test_past_the_burst_a_route_answers_429_in_the_error_shape_without_calling_the_function() -> None:
    clock, calls = Clock(), []
    api_gateway = gateway(template_api(), clock, calls)
    answers = [api_gateway.handle(post("/auth/login")).status for _ in range(12)]
    assert answers == [200] * 10 + [429] * 2
    assert calls == ["POST /auth/login"] * 10
    refused = api_gateway.handle(post("/auth/login"))
    body = json.loads(refused.body)
    assert (refused.status, body["error"]["code"], body["error"]["field"]) == (429, "too_many_requests", None)

    # the bucket is per route: the sign-up checkout and the default-limited routes are untouched
    assert api_gateway.handle(post("/tracks/DP/signup-checkout")).status == 200
    assert api_gateway.handle(HttpRequest("GET", "/tracks", [])).status == 200

    clock.now += 0.2  # 5 tokens a second: one is back
    assert api_gateway.handle(post("/auth/login")).status == 200
    assert api_gateway.handle(post("/auth/login")).status == 429
    clock.now += 10
    assert [api_gateway.handle(post("/auth/login")).status for _ in range(11)] == [200] * 10 + [429]


@pytest.mark.parametrize(("path", "burst"), [("/tracks/FSD/signup-checkout", 5), ("/webhooks/stripe", 50)])
def test_the_sign_up_checkout_and_the_webhooks_have_their_own_bursts(path: str, burst: int) -> None:
    calls: list[str] = []
    api_gateway = gateway(template_api(), Clock(), calls)
    answers = [api_gateway.handle(post(path)).status for _ in range(burst + 1)]
    assert answers == [200] * burst + [429]


def test_the_limits_are_template_parameters_the_local_stack_takes() -> None:
    api = template_api({"AuthThrottleRate": "100", "AuthThrottleBurst": "1000"})
    assert api.throttle.limit_for("POST /auth/register") == ThrottleLimit(rate=100.0, burst=1000)
