"""Runs the template's functions locally: one process per execution environment, as in Lambda.

Each function gets a small pool of worker processes (:mod:`local.stack.lambda_worker`), spawned on demand
up to ``max_workers`` and kept warm. A worker sees only the environment the template gives the function plus
what the Lambda runtime sets and what a local run needs (moto endpoint, dummy credentials). Invocations
past the function's Timeout kill the worker, as Lambda does with a timed-out sandbox; a crashed worker is
replaced on the next invocation.
"""

from __future__ import annotations

import contextlib
import os
import select
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from local.stack.lambda_worker import read_message, write_message
from local.stack.sam import FunctionSpec
from local.stack.template import TemplateError

WORKER_SCRIPT = Path(__file__).with_name("lambda_worker.py")
INIT_TIMEOUT_S = 10.0  # Lambda's limit for the init phase of on-demand environments
DUMMY_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
}
# Variables Lambda reserves: a function may not set them (CloudFormation rejects the template).
RESERVED_VARIABLES = frozenset(
    {
        "_HANDLER", "_X_AMZN_TRACE_ID", "AWS_ACCESS_KEY", "AWS_ACCESS_KEY_ID", "AWS_DEFAULT_REGION",
        "AWS_EXECUTION_ENV", "AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "AWS_LAMBDA_FUNCTION_NAME",
        "AWS_LAMBDA_FUNCTION_VERSION", "AWS_LAMBDA_INITIALIZATION_TYPE", "AWS_LAMBDA_LOG_GROUP_NAME",
        "AWS_LAMBDA_LOG_STREAM_NAME", "AWS_LAMBDA_RUNTIME_API", "AWS_REGION", "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN", "LAMBDA_RUNTIME_DIR", "LAMBDA_TASK_ROOT",
    }
)  # fmt: skip

LogSink = Callable[[str], None]


def function_environment(
    spec: FunctionSpec, *, region: str, aws_endpoint: str, python: str = sys.executable
) -> dict[str, str]:
    """The complete environment of a function's process (nothing is inherited from the stack's own)."""
    clashes = RESERVED_VARIABLES & spec.environment.keys()
    if clashes:
        raise TemplateError(f"{spec.logical_id} sets reserved Lambda variables: {sorted(clashes)}")
    runtime = {
        # What the Lambda runtime sets.
        "_HANDLER": spec.handler,
        "AWS_REGION": region,
        "AWS_DEFAULT_REGION": region,
        "AWS_EXECUTION_ENV": f"AWS_Lambda_{spec.runtime}",
        "AWS_LAMBDA_FUNCTION_NAME": spec.name,
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(spec.memory_mb),
        "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        "AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand",
        "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{spec.name}",
        "AWS_LAMBDA_LOG_STREAM_NAME": "local",
        "LAMBDA_TASK_ROOT": str(spec.code_dir),
        "LAMBDA_RUNTIME_DIR": str(Path(python).parent),
        "PYTHONPATH": os.pathsep.join(str(layer) for layer in spec.layer_dirs),  # like /opt/python
        "LANG": "en_US.UTF-8",
        "TZ": ":UTC",
        "PATH": os.pathsep.join([str(Path(python).parent), "/usr/local/bin", "/usr/bin", "/bin"]),
    }
    local = {
        "AWS_ENDPOINT_URL": aws_endpoint,  # boto3 sends every service to moto
        **DUMMY_CREDENTIALS,
        "POWERTOOLS_TRACE_DISABLED": "true",  # no X-Ray daemon locally
    }
    return {**runtime, **spec.environment, **local}


@dataclass(frozen=True)
class Invocation:
    request_id: str
    ok: bool
    payload: Any  # the handler's result, or {"errorMessage", "errorType", ...}
    duration_ms: float


class _Worker:
    """One worker process and its two pipes."""

    def __init__(self, spec: FunctionSpec, environment: dict[str, str], python: str, log: LogSink) -> None:
        self.spec = spec
        child_requests, self._requests = os.pipe()
        self._responses, child_responses = os.pipe()
        self.process = subprocess.Popen(
            [python, "-u", str(WORKER_SCRIPT), str(child_requests), str(child_responses)],
            env=environment,
            cwd=spec.code_dir,
            pass_fds=(child_requests, child_responses),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        os.close(child_requests)
        os.close(child_responses)
        self.pid = self.process.pid
        self.code_version = 0.0  # newest source mtime when spawned (set by the pool)
        self._initialised = False
        self._log_thread = threading.Thread(
            target=self._forward_logs, args=(log,), name=f"log-{spec.logical_id}-{self.pid}", daemon=True
        )
        self._log_thread.start()

    def _forward_logs(self, log: LogSink) -> None:
        assert self.process.stdout is not None
        for raw in self.process.stdout:
            log(f"[{self.spec.logical_id}] {raw.decode(errors='replace').rstrip()}")

    @property
    def alive(self) -> bool:
        return self.process.poll() is None

    def initialise(self) -> dict[str, Any] | None:
        """Wait for the worker's init report; None when ready, else the init error (the worker has exited)."""
        if self._initialised:
            return None
        limit = max(INIT_TIMEOUT_S, self.spec.timeout_s)
        ready, _, _ = select.select([self._responses], [], [], limit)
        report = read_message(self._responses) if ready else None
        if report is None or not report["ok"]:
            self.kill()
            if not ready:
                return {"errorType": "Sandbox.Timedout", "errorMessage": f"Init timed out after {limit:.2f} seconds"}
            return (
                dict(report["payload"])
                if report
                else {"errorType": "Runtime.ExitError", "errorMessage": "Runtime exited during init"}
            )
        self._initialised = True
        return None

    def invoke(self, request_id: str, event: Any, invoked_arn: str) -> tuple[bool, Any]:
        init_error = self.initialise()
        if init_error is not None:
            return False, {**init_error, "requestId": request_id}
        deadline = time.time() + self.spec.timeout_s
        try:
            write_message(
                self._requests,
                {
                    "request_id": request_id,
                    "deadline_ms": int(deadline * 1000),
                    "invoked_function_arn": invoked_arn,
                    "event": event,
                },
            )
        except (BrokenPipeError, OSError):
            return False, self._exit_error(request_id)
        ready, _, _ = select.select([self._responses], [], [], max(0.0, deadline - time.time()))
        if not ready:
            self.kill()
            return False, {
                "errorType": "Sandbox.Timedout",
                "errorMessage": (
                    f"RequestId: {request_id} Error: Task timed out after {self.spec.timeout_s:.2f} seconds"
                ),
            }
        response = read_message(self._responses)
        if response is None:  # the process ended mid-invocation
            self.process.wait(timeout=5)
            return False, self._exit_error(request_id)
        return bool(response["ok"]), response["payload"]

    def _exit_error(self, request_id: str) -> dict[str, str]:
        code = self.process.poll()
        return {
            "errorType": "Runtime.ExitError",
            "errorMessage": f"RequestId: {request_id} Error: Runtime exited with error: exit status {code}",
        }

    def kill(self) -> None:
        if self.alive:
            self.process.kill()
        self.process.wait(timeout=5)
        self._close_pipes()

    def stop(self, grace_s: float = 2.0) -> None:
        """EOF on the request pipe asks the worker to exit; then terminate, then kill."""
        self._close_pipes()
        try:
            self.process.wait(timeout=grace_s)
        except subprocess.TimeoutExpired:
            self.process.terminate()
            try:
                self.process.wait(timeout=grace_s)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=grace_s)
        self._log_thread.join(timeout=grace_s)

    def _close_pipes(self) -> None:
        for fd in (self._requests, self._responses):
            with contextlib.suppress(OSError):
                os.close(fd)
        self._requests = self._responses = -1


class SourceWatcher:
    """Newest modification time of the files under some directories, looked at most once a second.

    Lets the pools retire warm workers whose code changed: an edit takes effect at the next request, as a
    deployment does in Lambda (new execution environments for the new code).
    """

    def __init__(self, interval_s: float = 1.0) -> None:
        self._interval_s = interval_s
        self._lock = threading.Lock()
        self._cache: dict[Path, tuple[float, float]] = {}  # directory -> (checked at, newest mtime)

    def version(self, directories: tuple[Path, ...]) -> float:
        return max((self._newest(directory) for directory in directories), default=0.0)

    def _newest(self, directory: Path) -> float:
        with self._lock:
            now = time.monotonic()
            checked_at, newest = self._cache.get(directory, (-1e9, 0.0))
            if now - checked_at < self._interval_s:
                return newest
            newest = 0.0
            for root, directories, files in os.walk(directory):
                directories[:] = [name for name in directories if name != "__pycache__"]
                for name in files:
                    with contextlib.suppress(OSError):
                        newest = max(newest, os.stat(os.path.join(root, name)).st_mtime)
            self._cache[directory] = (now, newest)
            return newest


class FunctionPool:
    """Warm workers of one function; at most ``max_workers`` run at a time, further calls wait."""

    def __init__(
        self,
        spec: FunctionSpec,
        environment: dict[str, str],
        *,
        max_workers: int,
        python: str,
        log: LogSink,
        watcher: SourceWatcher | None = None,
    ) -> None:
        self.spec = spec
        self._watcher = watcher or SourceWatcher()
        self._sources = (spec.code_dir, *spec.layer_dirs)
        self.environment = environment
        self.max_workers = max_workers
        self._python = python
        self._log = log
        self._idle: list[_Worker] = []
        self._count = 0  # workers alive or being spawned
        self._closed = False
        self._condition = threading.Condition()
        self._workers: list[_Worker] = []
        self.spawned_pids: list[int] = []

    def invoke(self, event: Any) -> Invocation:
        request_id = str(uuid.uuid4())
        started = time.perf_counter()
        worker = self._acquire()
        try:
            ok, payload = worker.invoke(request_id, event, self.spec.arn)
        finally:
            self._release(worker)
        duration = (time.perf_counter() - started) * 1000
        self._log(f"[{self.spec.logical_id}] REPORT RequestId: {request_id} Duration: {duration:.1f} ms")
        return Invocation(request_id=request_id, ok=ok, payload=payload, duration_ms=duration)

    def _acquire(self) -> _Worker:
        code_version = self._watcher.version(self._sources)
        with self._condition:
            while True:
                if self._closed:
                    raise RuntimeError(f"{self.spec.logical_id}: the local stack is stopping")
                while self._idle:
                    worker = self._idle.pop()
                    if worker.alive and worker.code_version >= code_version:
                        return worker
                    if worker.alive:
                        self._log(f"[{self.spec.logical_id}] code changed: new execution environment")
                    self._discard(worker)
                if self._count < self.max_workers:
                    self._count += 1
                    break
                self._condition.wait()
        try:  # spawning takes a while: outside the lock
            worker = _Worker(self.spec, self.environment, self._python, self._log)
            worker.code_version = code_version
        except BaseException:
            with self._condition:
                self._count -= 1
                self._condition.notify()
            raise
        with self._condition:
            self._workers.append(worker)
            self.spawned_pids.append(worker.pid)
        return worker

    def _release(self, worker: _Worker) -> None:
        with self._condition:
            if worker.alive and not self._closed:
                self._idle.append(worker)
            else:
                self._discard(worker)
            self._condition.notify()

    def _discard(self, worker: _Worker) -> None:
        # A dead worker (crash, timeout kill) frees its slot; the next call spawns a fresh one.
        self._count -= 1
        if worker in self._workers:
            self._workers.remove(worker)
        if worker.alive:
            threading.Thread(target=worker.stop, daemon=True).start()

    def warm(self) -> None:
        """Initialise one worker ahead of the first invocation (like provisioned concurrency)."""
        worker = self._acquire()
        try:
            worker.initialise()
        finally:
            self._release(worker)

    def stop(self) -> None:
        with self._condition:
            self._closed = True
            workers = list(self._workers)
            self._idle.clear()
            self._condition.notify_all()
        for worker in workers:
            worker.stop()


class LambdaRuntime:
    """All functions of the template, invokable by logical id."""

    def __init__(
        self,
        functions: dict[str, FunctionSpec],
        *,
        region: str,
        aws_endpoint: str,
        log: LogSink,
        max_workers: int = 2,
        python: str = sys.executable,
    ) -> None:
        watcher = SourceWatcher()  # one for all pools: they share the layer
        self.pools = {
            logical_id: FunctionPool(
                spec,
                function_environment(spec, region=region, aws_endpoint=aws_endpoint, python=python),
                max_workers=max_workers,
                python=python,
                log=log,
                watcher=watcher,
            )
            for logical_id, spec in functions.items()
        }

    def invoke(self, logical_id: str, event: Any) -> Invocation:
        return self.pools[logical_id].invoke(event)

    def spawned_pids(self) -> list[int]:
        return [pid for pool in self.pools.values() for pid in pool.spawned_pids]

    def stop(self) -> None:
        threads = [threading.Thread(target=pool.stop) for pool in self.pools.values()]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
