"""Local EventBridge schedules: the template's Schedule events, their runs (periodic and on demand), and the
control route that runs one now."""

from __future__ import annotations

import json
import threading
import time
from typing import Any

import pytest

from local.stack.api_gateway import ApiGateway, HttpRequest, HttpResponse
from local.stack.lambda_runtime import Invocation
from local.stack.sam import HttpApiSpec, ScheduleSource, build_model, rate_seconds
from local.stack.scheduler import Scheduler, run_now_response
from local.stack.template import DEFAULT_TEMPLATE, Resolver, TemplateError, load_template


@pytest.mark.parametrize(("expression", "seconds"), [
    ("rate(15 minutes)", 900), ("rate(1 minute)", 60), ("rate(2 hours)", 7200), ("rate(1 day)", 86400)])
def test_rate_expressions(expression: str, seconds: float) -> None:
    assert rate_seconds(expression) == seconds


@pytest.mark.parametrize("expression", ["rate(1 minutes)", "rate(5 minute)", "rate(0 minutes)", "cron(0 12 * * ? *)",
                                        "every 5 minutes"])
def test_what_eventbridge_refuses_or_the_stack_cannot_run_is_a_template_error(expression: str) -> None:
    with pytest.raises(TemplateError):
        rate_seconds(expression)


class Recorder:
    def __init__(self, ok: bool = True) -> None:
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.ok = ok
        self.lock = threading.Lock()

    def __call__(self, function: str, event: dict[str, Any]) -> Invocation:
        with self.lock:
            self.calls.append((function, event))
        return Invocation("r", self.ok, {"relayed": 0} if self.ok else {"errorMessage": "boom"}, 2.0)


SCHEDULE = ScheduleSource(function="ReconciliationFunction", event_name="Every15Minutes",
                          expression="rate(15 minutes)", interval_s=900.0)


def scheduler(recorder: Recorder, schedules: list[ScheduleSource] | None = None,
              interval: float | None = None) -> Scheduler:
    return Scheduler(schedules if schedules is not None else [SCHEDULE], recorder, region="us-east-1",
                     account_id="123456789012", stack_name="coursepay", log=lambda line: None,
                     interval_override_s=interval)


def test_template_yaml_schedules_the_reconciliation_every_15_minutes_and_the_bookings_every_5() -> None:
    template = load_template(DEFAULT_TEMPLATE)
    model = build_model(template, Resolver.with_stand_in_ids(template))
    assert [(s.function, s.event_name, s.interval_s, s.enabled) for s in model.schedules] == [
        ("ReconciliationFunction", "Every15Minutes", 900.0, True),
        ("BookingsSchedulerFunction", "Every5Minutes", 300.0, True)]


def test_a_schedule_runs_every_interval_with_eventbridges_scheduled_event() -> None:
    recorder = Recorder()
    runner = scheduler(recorder, interval=0.05)
    runner.start()
    try:
        deadline = time.monotonic() + 5
        while len(recorder.calls) < 2 and time.monotonic() < deadline:
            time.sleep(0.02)
    finally:
        runner.stop()
    assert len(recorder.calls) >= 2
    function, event = recorder.calls[0]
    assert function == "ReconciliationFunction"
    assert (event["source"], event["detail-type"], event["detail"]) == ("aws.events", "Scheduled Event", {})
    assert event["resources"] == [
        "arn:aws:events:us-east-1:123456789012:rule/coursepay-ReconciliationFunctionEvery15Minutes"]


def test_without_an_override_the_first_run_waits_the_templates_rate() -> None:
    recorder = Recorder()
    runner = scheduler(recorder)
    assert runner.interval(SCHEDULE) == 900.0
    runner.start()
    time.sleep(0.1)
    runner.stop()
    assert recorder.calls == []


def test_run_now_runs_the_functions_schedules_once_and_reports_them() -> None:
    recorder = Recorder()
    disabled = ScheduleSource(function="ReconciliationFunction", event_name="Off", expression="rate(1 day)",
                              interval_s=86400.0, enabled=False)
    custom = ScheduleSource(function="OtherFunction", event_name="Hourly", expression="rate(1 hour)",
                            interval_s=3600.0, input={"mode": "deep"})
    runner = scheduler(recorder, [SCHEDULE, disabled, custom])
    runs = runner.run_now("ReconciliationFunction")
    assert [(run.event_name, run.invocation.ok) for run in runs] == [("Every15Minutes", True)]
    assert runner.run_now("OtherFunction")[0].invocation.ok
    assert recorder.calls[-1] == ("OtherFunction", {"mode": "deep"})  # a schedule's Input is the event
    assert runner.run_now("NoSuchFunction") == []
    assert runner.functions() == {"ReconciliationFunction", "OtherFunction"}


def test_run_now_at_a_moment_gives_the_event_that_time_and_a_malformed_one_is_refused() -> None:
    recorder = Recorder()
    runner = scheduler(recorder)
    response = run_now_response(runner, "ReconciliationFunction", "2030-01-02T03:04:05Z")
    assert response.status == 200
    assert recorder.calls[-1][1]["time"] == "2030-01-02T03:04:05Z"
    run_now_response(runner, "ReconciliationFunction")
    assert recorder.calls[-1][1]["time"] != "2030-01-02T03:04:05Z"  # without it: the clock
    refused = run_now_response(runner, "ReconciliationFunction", "tomorrow")
    assert (refused.status, len(recorder.calls)) == (400, 2)
    assert "at:" in json.loads(refused.body)["message"]


def test_an_interval_override_must_be_positive() -> None:
    with pytest.raises(ValueError, match="positive"):
        scheduler(Recorder(), interval=0)


def test_the_gateway_sends_post_control_routes_to_their_action_with_path_parameters() -> None:
    seen: list[tuple[str, dict[str, str]]] = []

    def action(request: HttpRequest, parameters: dict[str, str]) -> HttpResponse:
        seen.append((request.method, parameters))
        return HttpResponse.json(200, {"ran": parameters["function"]})

    api = HttpApiSpec(logical_id="Api", api_id="api1", routes=(), cors=None)
    gateway = ApiGateway(api, Recorder(), {}, account_id="1", log=lambda line: None,
                         local_actions={"/_local/schedules/{function}/run": action})
    response = gateway.handle(HttpRequest("POST", "/_local/schedules/ReconciliationFunction/run", []))
    assert (response.status, json.loads(response.body)) == (200, {"ran": "ReconciliationFunction"})
    assert seen == [("POST", {"function": "ReconciliationFunction"})]
    assert gateway.handle(HttpRequest("GET", "/_local/schedules/ReconciliationFunction/run", [])).status == 404
    assert gateway.handle(HttpRequest("POST", "/_local/schedules/run", [])).status == 404
