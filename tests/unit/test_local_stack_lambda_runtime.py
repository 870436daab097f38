"""Function workers: real processes running small handlers written here."""

from __future__ import annotations

import itertools
import os
import sys
import textwrap
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from local.stack.lambda_runtime import (
    DEFAULT_MAX_WORKERS,
    MAX_WORKERS_ENV,
    FunctionPool,
    SourceWatcher,
    function_environment,
    max_workers_setting,
)
from local.stack.sam import FunctionSpec

HANDLER = """
import json, os, sys, time

INIT_STARTED = time.time()
time.sleep(float(os.environ["INIT_SECONDS"]))
with open(os.environ["INIT_LOG"], "a") as inits:  # one line per init (a module import per environment)
    inits.write(f"{os.getpid()} {INIT_STARTED} {time.time()}\\n")

def lambda_handler(event, context):
    action = event.get("action")
    if action == "env":
        return dict(os.environ)
    if action == "context":
        return {"name": context.function_name, "memory": context.memory_limit_in_mb,
                "arn": context.invoked_function_arn, "request_id": context.aws_request_id,
                "remaining": context.get_remaining_time_in_millis(), "path0": sys.path[0]}
    if action == "fail":
        raise ValueError("bad input")
    if action == "sleep":
        started = time.time()
        time.sleep(event["seconds"])
        return {"slept": event["seconds"], "pid": os.getpid(), "started": started, "ended": time.time()}
    if action == "crash":
        os._exit(3)
    if action == "unserialisable":
        return {1, 2}
    print("hello from the handler")
    return {"pid": os.getpid(), "echo": event}
"""


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


PoolFactory = Callable[..., FunctionPool]


@pytest.fixture
def make_pool(tmp_path: Path) -> Iterator[PoolFactory]:
    pools: list[FunctionPool] = []

    def make(max_workers: int = 2, init_seconds: float = 0.0, **options: Any) -> FunctionPool:
        code = tmp_path / f"fn{len(pools)}"
        code.mkdir()
        (code / "app.py").write_text(textwrap.dedent(HANDLER))
        spec = FunctionSpec(
            logical_id="TestFunction",
            name="stack-TestFunction",
            arn="arn:aws:lambda:us-east-1:123456789012:function:stack-TestFunction",
            code_dir=code,
            handler="app.lambda_handler",
            runtime="python3.13",
            memory_mb=256,
            timeout_s=2,
            layer_dirs=(),
            # outside the code directory: a file written there would look like a code change
            environment={"GREETING": "hi", "INIT_LOG": str(tmp_path / f"inits{len(pools)}.log"),
                         "INIT_SECONDS": str(init_seconds)},
        )
        environment = function_environment(spec, region="us-east-1", aws_endpoint="http://127.0.0.1:1")
        lines: list[str] = []
        pool = FunctionPool(spec, environment, max_workers=max_workers, python=sys.executable, log=lines.append,
                            watcher=SourceWatcher(interval_s=0), **options)
        pool.lines = lines  # type: ignore[attr-defined]
        pools.append(pool)
        return pool

    yield make
    for pool in pools:
        pool.stop()


@pytest.fixture
def pool(make_pool: PoolFactory) -> FunctionPool:
    return make_pool()


def _init_periods(pool: FunctionPool) -> dict[int, tuple[float, float]]:
    """Worker pid -> (init started, init ended)."""
    lines = Path(pool.environment["INIT_LOG"]).read_text().splitlines()
    return {int(pid): (float(start), float(end)) for pid, start, end in (line.split() for line in lines)}


def _inits(pool: FunctionPool) -> list[int]:
    return list(_init_periods(pool))


def _concurrently(pool: FunctionPool, count: int, seconds: float) -> list[dict[str, Any]]:
    with ThreadPoolExecutor(count) as executor:
        invocations = list(executor.map(lambda _: pool.invoke({"action": "sleep", "seconds": seconds}), range(count)))
    assert all(invocation.ok for invocation in invocations), invocations
    return [invocation.payload for invocation in invocations]


def _most_at_once(results: list[dict[str, Any]]) -> int:
    edges = sorted([(r["started"], 1) for r in results] + [(r["ended"], -1) for r in results])
    running = most = 0
    for _, step in edges:  # an end sorts before a start at the same instant
        running += step
        most = max(most, running)
    return most


def _pid_exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_result_logs_context_and_environment(pool: FunctionPool) -> None:
    result = pool.invoke({"x": 1})
    assert result.ok
    assert result.payload["echo"] == {"x": 1}
    seen = pool.invoke({"action": "env"}).payload
    # Python itself adds LC_CTYPE (PEP 538 locale coercion) on hosts without Lambda's en_US.UTF-8 locale.
    seen.pop("LC_CTYPE", None)
    assert seen == pool.environment  # nothing of the starting process leaks in
    context = pool.invoke({"action": "context"}).payload
    assert context["name"] == "stack-TestFunction"
    assert context["memory"] == "256"
    assert context["arn"] == pool.spec.arn
    assert 0 < context["remaining"] <= 2000
    assert context["path0"] == str(pool.spec.code_dir)  # the code directory, not the repository
    deadline = time.monotonic() + 5
    while not any("hello from the handler" in line for line in pool.lines) and time.monotonic() < deadline:  # type: ignore[attr-defined]
        time.sleep(0.05)
    assert any(line.startswith("[TestFunction] hello from the handler") for line in pool.lines)  # type: ignore[attr-defined]


def test_handler_errors_have_lambdas_error_shape_and_the_worker_stays_warm(pool: FunctionPool) -> None:
    pid = pool.invoke({}).payload["pid"]
    failed = pool.invoke({"action": "fail"})
    assert not failed.ok
    assert failed.payload["errorType"] == "ValueError"
    assert failed.payload["errorMessage"] == "bad input"
    assert any("raise ValueError" in frame for frame in failed.payload["stackTrace"])
    unserialisable = pool.invoke({"action": "unserialisable"})
    assert unserialisable.payload["errorType"] == "Runtime.MarshalError"
    assert pool.invoke({}).payload["pid"] == pid


def test_timeout_kills_the_worker_and_the_next_call_gets_a_new_one(pool: FunctionPool) -> None:
    pid = pool.invoke({}).payload["pid"]
    timed_out = pool.invoke({"action": "sleep", "seconds": 5})
    assert not timed_out.ok
    assert timed_out.payload["errorType"] == "Sandbox.Timedout"
    assert "Task timed out after 2.00 seconds" in timed_out.payload["errorMessage"]
    assert not _pid_exists(pid)
    assert pool.invoke({}).payload["pid"] != pid


def test_a_crashed_worker_is_replaced(pool: FunctionPool) -> None:
    crashed = pool.invoke({"action": "crash"})
    assert crashed.payload["errorType"] == "Runtime.ExitError"
    assert "exit status 3" in crashed.payload["errorMessage"]
    assert pool.invoke({"x": 2}).ok


def test_more_concurrent_invocations_than_workers_scale_out_to_the_limit_and_never_beyond(
    make_pool: PoolFactory,
) -> None:
    pool = make_pool(max_workers=3)
    assert pool.invoke({}).ok  # one warm worker to begin with
    results = _concurrently(pool, 8, seconds=0.4)
    assert len({result["pid"] for result in results}) == 3
    assert _most_at_once(results) == 3  # the other five waited for a worker instead of a fourth one starting
    stats = pool.stats()
    assert (stats.workers, stats.busy, stats.peak_workers, stats.cold_starts) == (3, 0, 3, 3)
    assert sorted(_inits(pool)) == sorted(pool.spawned_pids)  # every new worker ran its own init


def test_a_function_initialises_one_new_worker_at_a_time_while_waiting_calls_take_the_first_free_one(
    make_pool: PoolFactory,
) -> None:
    pool = make_pool(max_workers=3, init_seconds=0.3)
    results = _concurrently(pool, 6, seconds=0.2)
    periods = sorted(_init_periods(pool).values())
    assert len(periods) == 3
    assert all(earlier[1] <= later[0] for earlier, later in itertools.pairwise(periods))  # never two inits at once
    assert len({result["pid"] for result in results}) == 3


def test_workers_start_only_when_every_worker_is_busy_and_idle_ones_are_reused(make_pool: PoolFactory) -> None:
    pool = make_pool(max_workers=8)
    first = pool.invoke({}).payload["pid"]
    assert [pool.invoke({}).payload["pid"] for _ in range(4)] == [first] * 4  # one after another: one warm worker
    burst = {result["pid"] for result in _concurrently(pool, 3, seconds=0.3)}
    assert len(burst) == 3  # two more environments, not eight
    assert first in burst
    again = {result["pid"] for result in _concurrently(pool, 3, seconds=0.3)}
    assert again == burst  # the idle ones are reused: no further cold start
    # one after another again: always the most recently used worker, so that the others can age out
    assert len({pool.invoke({}).payload["pid"] for _ in range(4)}) == 1
    assert pool.stats().cold_starts == 3 == len(_inits(pool))


def test_a_worker_idle_past_the_timeout_is_retired_and_a_recently_used_one_kept(make_pool: PoolFactory) -> None:
    clock = FakeClock()
    pool = make_pool(max_workers=2, idle_timeout_s=300, clock=clock)
    pids = {result["pid"] for result in _concurrently(pool, 2, seconds=0.3)}
    assert len(pids) == 2
    clock.now += 200
    recent = pool.invoke({}).payload["pid"]
    clock.now += 150  # the other worker has now been idle 350 s, this one 150 s
    assert pool.invoke({}).payload["pid"] == recent
    (retired,) = pids - {recent}
    deadline = time.monotonic() + 5
    while _pid_exists(retired) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _pid_exists(retired)
    assert pool.stats().workers == 1
    assert any(f"worker {retired} idle for 300 s: retired" in line for line in pool.lines)  # type: ignore[attr-defined]


def test_the_worker_limit_comes_from_the_environment_or_the_default() -> None:
    assert max_workers_setting({}) == DEFAULT_MAX_WORKERS == max(2, os.cpu_count() or 2)
    assert max_workers_setting({MAX_WORKERS_ENV: " 3 "}) == 3
    for bad in ("0", "-2", "many"):
        with pytest.raises(ValueError, match=MAX_WORKERS_ENV):
            max_workers_setting({MAX_WORKERS_ENV: bad})


def test_stop_ends_every_worker(pool: FunctionPool) -> None:
    pool.invoke({})
    pool.stop()
    assert pool.spawned_pids
    assert not any(_pid_exists(pid) for pid in pool.spawned_pids)


def test_an_edited_handler_runs_in_a_new_worker(pool: FunctionPool) -> None:
    first = pool.invoke({}).payload["pid"]
    assert pool.invoke({}).payload["pid"] == first  # warm
    app = pool.spec.code_dir / "app.py"
    app.write_text(app.read_text().replace('"echo": event', '"echo": "edited"'))
    os.utime(app, (time.time() + 1, time.time() + 1))  # a newer mtime even on coarse-grained clocks
    edited = pool.invoke({"x": 1}).payload
    assert edited["echo"] == "edited"
    assert edited["pid"] != first


def test_a_failed_init_is_reported_and_retried_in_a_fresh_environment(pool: FunctionPool) -> None:
    app = pool.spec.code_dir / "app.py"
    good = app.read_text()
    app.write_text("import json\nraise RuntimeError('no config at import time')\n")
    os.utime(app, (time.time() + 1, time.time() + 1))
    failed = pool.invoke({})
    assert not failed.ok
    assert (failed.payload["errorType"], failed.payload["errorMessage"]) == ("RuntimeError", "no config at import time")
    app.write_text("import missing_dependency_xyz\n")
    os.utime(app, (time.time() + 2, time.time() + 2))
    assert pool.invoke({}).payload["errorType"] == "Runtime.ImportModuleError"
    app.write_text(good)
    os.utime(app, (time.time() + 3, time.time() + 3))
    assert pool.invoke({"x": 3}).payload["echo"] == {"x": 3}
