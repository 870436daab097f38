"""EventBridge schedules, locally: every ``Type: Schedule`` event of the template invokes its function with
the event EventBridge sends ("Scheduled Event", or the event's ``Input``), first one interval after the
start and then every interval (the template's ``rate(...)`` unless the stack overrides it).

``run_now(function)`` runs a function's schedules once, at once, and returns when they finished: the
control route ``POST /_local/schedules/{FunctionLogicalId}/run`` (``run_now_response``) uses it; with
``?at=<ISO time>`` the run's event says it is that moment (``time``), so a function that takes "now" from its
event (BookingsSchedulerFunction) can be run as of later without waiting. Runs of one
schedule never overlap locally (a periodic run due during a ``run_now`` waits for it).
"""

from __future__ import annotations

import re
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from local.stack.api_gateway import HttpResponse
from local.stack.lambda_runtime import Invocation
from local.stack.sam import ScheduleSource

_ISO_UTC = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?Z")

Invoker = Callable[[str, dict[str, Any]], Invocation]


@dataclass(frozen=True)
class ScheduledRun:
    function: str
    event_name: str
    invocation: Invocation


class Scheduler:
    def __init__(
        self,
        schedules: list[ScheduleSource],
        invoke: Invoker,
        *,
        region: str,
        account_id: str,
        stack_name: str,
        log: Callable[[str], None],
        interval_override_s: float | None = None,
    ) -> None:
        if interval_override_s is not None and interval_override_s <= 0:
            raise ValueError("the schedule interval must be a positive number of seconds")
        self._schedules = [schedule for schedule in schedules if schedule.enabled]
        self._invoke = invoke
        self._region = region
        self._account_id = account_id
        self._stack_name = stack_name
        self._log = log
        self._interval_override = interval_override_s
        self._locks = {id(schedule): threading.Lock() for schedule in self._schedules}
        self._stopping = threading.Event()
        self._threads: list[threading.Thread] = []

    def interval(self, schedule: ScheduleSource) -> float:
        return self._interval_override if self._interval_override is not None else schedule.interval_s

    def start(self) -> None:
        for schedule in self._schedules:
            thread = threading.Thread(target=self._loop, args=(schedule,), daemon=True,
                                      name=f"schedule-{schedule.function}-{schedule.event_name}")
            thread.start()
            self._threads.append(thread)
            self._log(f"[schedule] {schedule.function}.{schedule.event_name}: {schedule.expression}, "
                      f"every {self.interval(schedule):g} s locally")

    def functions(self) -> set[str]:
        return {schedule.function for schedule in self._schedules}

    def run_now(self, function: str, *, at: str | None = None) -> list[ScheduledRun]:
        """Run every schedule of ``function`` once now (its event's ``time`` ``at`` when given); [] when it has
        none."""
        return [self._run(schedule, at) for schedule in self._schedules if schedule.function == function]

    def stop(self) -> None:
        self._stopping.set()
        for thread in self._threads:
            thread.join(timeout=5)

    def _loop(self, schedule: ScheduleSource) -> None:
        while not self._stopping.wait(self.interval(schedule)):
            try:
                self._run(schedule)
            except Exception as error:  # the runtime is stopping: nothing left to schedule
                self._log(f"[schedule] {schedule.function}.{schedule.event_name}: not run ({error!r})")

    def _run(self, schedule: ScheduleSource, at: str | None = None) -> ScheduledRun:
        with self._locks[id(schedule)]:
            invocation = self._invoke(schedule.function, self.event(schedule, at))
        outcome = "ok" if invocation.ok else f"FAILED {invocation.payload}"
        self._log(f"[schedule] {schedule.function}.{schedule.event_name}: {outcome} ({invocation.duration_ms:.0f} ms)")
        return ScheduledRun(schedule.function, schedule.event_name, invocation)

    def event(self, schedule: ScheduleSource, at: str | None = None) -> dict[str, Any]:
        if schedule.input is not None:
            return dict(schedule.input) if isinstance(schedule.input, dict) else schedule.input
        rule = f"{self._stack_name}-{schedule.function}{schedule.event_name}"
        return {
            "version": "0",
            "id": str(uuid.uuid4()),
            "detail-type": "Scheduled Event",
            "source": "aws.events",
            "account": self._account_id,
            "time": at or time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "region": self._region,
            "resources": [f"arn:aws:events:{self._region}:{self._account_id}:rule/{rule}"],
            "detail": {},
        }


def run_now_response(scheduler: Scheduler, function: str, at: str | None = None) -> HttpResponse:
    """``POST /_local/schedules/{FunctionLogicalId}/run[?at=<ISO time>]``: the function's schedules run once now;
    answers when they finished (200, or 500 when an invocation failed), 404 for a function without a Schedule
    event, 400 for an ``at`` that is not an ISO-8601 UTC time."""
    if at is not None and not _ISO_UTC.fullmatch(at):
        return HttpResponse.json(400, {"message": "at: must be an ISO-8601 UTC time, e.g. 2026-12-07T09:00:00Z"})
    runs = scheduler.run_now(function, at=at)
    if not runs:
        known = sorted(scheduler.functions())
        return HttpResponse.json(404, {"message": f"{function} has no Schedule event (scheduled: {known})"})
    body = {
        "function": function,
        "runs": [
            {"event": run.event_name, "ok": run.invocation.ok, "duration_ms": round(run.invocation.duration_ms),
             "result": run.invocation.payload}
            for run in runs
        ],
    }
    return HttpResponse.json(200 if all(run.invocation.ok for run in runs) else 500, body)
