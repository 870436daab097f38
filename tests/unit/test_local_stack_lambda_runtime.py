"""Function workers: real processes running small handlers written here."""

from __future__ import annotations

import os
import sys
import textwrap
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from local.stack.lambda_runtime import FunctionPool, SourceWatcher, function_environment
from local.stack.sam import FunctionSpec

HANDLER = """
import json, os, sys, time

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
        time.sleep(event["seconds"])
        return {"slept": event["seconds"], "pid": os.getpid()}
    if action == "crash":
        os._exit(3)
    if action == "unserialisable":
        return {1, 2}
    print("hello from the handler")
    return {"pid": os.getpid(), "echo": event}
"""


@pytest.fixture
def pool(tmp_path: Path) -> Iterator[FunctionPool]:
    code = tmp_path / "fn"
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
        environment={"GREETING": "hi"},
    )
    environment = function_environment(spec, region="us-east-1", aws_endpoint="http://127.0.0.1:1")
    lines: list[str] = []
    pool = FunctionPool(
        spec, environment, max_workers=2, python=sys.executable, log=lines.append, watcher=SourceWatcher(interval_s=0)
    )
    pool.lines = lines  # type: ignore[attr-defined]
    yield pool
    pool.stop()


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


def test_concurrent_invocations_share_at_most_max_workers(pool: FunctionPool) -> None:
    results: list[int] = []
    threads = [
        threading.Thread(target=lambda: results.append(pool.invoke({"action": "sleep", "seconds": 0.3}).payload["pid"]))
        for _ in range(5)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=15)
    assert len(results) == 5
    assert len(set(results)) <= 2


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
