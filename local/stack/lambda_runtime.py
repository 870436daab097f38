"""Runs the template's functions locally: one process per execution environment, as in Lambda.

Each function gets a pool of worker processes (:mod:`local.stack.lambda_worker`) that scales as Lambda scales
execution environments: an invocation takes an idle warm worker (the most recently used one), or, when every
worker is busy, starts a new one - a new process, so a full cold start (init) - up to ``max_workers`` per
function; past that limit invocations wait for a worker to free up (locally nothing is throttled). One worker
of a function initialises at a time (Lambda's environments each have their own CPU; here all share the
machine's cores, and eight inits at once on two cores each took ~8 times as long, past the 10 s init limit
under load): the invocations waiting meanwhile take whichever worker is free first. A worker
idle for ``idle_timeout_s`` is retired, as Lambda recycles idle environments, so a burst's extra workers do
not stay around. A worker sees only the environment the template gives the function plus what the Lambda
runtime sets and what a local run needs (moto endpoint, dummy credentials). Invocations past the function's
Timeout kill the worker, as Lambda does with a timed-out sandbox; a crashed worker is replaced on the next
invocation.
"""

from __future__ import annotations

import contextlib
import os
import sys
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from local.stack.sam import FunctionSpec
from local.stack.template import TemplateError
from local.stack.worker_process import LogSink, WorkerProcess

# Workers per function: one per core (at least 2). The stack is CPU-bound: on 2 cores, 8 workers per function
# made every load figure worse than 2 (README, "The local stack under load"); `--max-workers-per-function` or
# this variable changes it.
MAX_WORKERS_ENV = "LOCAL_STACK_MAX_WORKERS_PER_FUNCTION"
DEFAULT_MAX_WORKERS = max(2, os.cpu_count() or 2)
INITS_AT_ONCE = 1  # per function (see above)
IDLE_TIMEOUT_S = 300.0  # Lambda keeps an idle environment for minutes, not for ever
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


def max_workers_setting(environ: Mapping[str, str] = os.environ) -> int:
    """The per-function worker limit: ``LOCAL_STACK_MAX_WORKERS_PER_FUNCTION`` when set, else the default."""
    raw = environ.get(MAX_WORKERS_ENV, "").strip()
    if not raw:
        return DEFAULT_MAX_WORKERS
    try:
        value = int(raw)
    except ValueError:
        raise ValueError(f"{MAX_WORKERS_ENV} must be a whole number of workers, got {raw!r}") from None
    if value < 1:
        raise ValueError(f"{MAX_WORKERS_ENV} must be at least 1, got {value}")
    return value


@dataclass(frozen=True)
class PoolStats:
    workers: int  # alive or being started now
    busy: int
    peak_workers: int  # the most at any one time
    cold_starts: int  # workers started so far (each one an init)


class FunctionPool:
    """The workers of one function, scaled on demand up to ``max_workers``; further calls wait for one."""

    def __init__(
        self,
        spec: FunctionSpec,
        environment: dict[str, str],
        *,
        max_workers: int,
        python: str,
        log: LogSink,
        watcher: SourceWatcher | None = None,
        idle_timeout_s: float = IDLE_TIMEOUT_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if max_workers < 1:
            raise ValueError(f"{spec.logical_id}: max_workers must be at least 1, got {max_workers}")
        self.spec = spec
        self._watcher = watcher or SourceWatcher()
        self._sources = (spec.code_dir, *spec.layer_dirs)
        self.environment = environment
        self.max_workers = max_workers
        self._python = python
        self._log = log
        self._idle_timeout_s = idle_timeout_s
        self._clock = clock
        self._idle: list[tuple[WorkerProcess, float]] = []  # (worker, idle since); the most recently used last
        self._count = 0  # workers alive or being spawned
        self._initialising = 0
        self._busy = 0
        self._peak = 0
        self._closed = False
        self._condition = threading.Condition()
        self._workers: list[WorkerProcess] = []
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

    def stats(self) -> PoolStats:
        with self._condition:
            return PoolStats(self._count, self._busy, self._peak, len(self.spawned_pids))

    def _acquire(self) -> WorkerProcess:
        code_version = self._watcher.version(self._sources)
        with self._condition:
            while True:
                if self._closed:
                    raise RuntimeError(f"{self.spec.logical_id}: the local stack is stopping")
                self._retire_expired()
                while self._idle:
                    worker, _ = self._idle.pop()  # the warmest one: the others age out
                    if worker.alive and worker.code_version >= code_version:
                        self._busy += 1
                        return worker
                    if worker.alive:
                        self._log(f"[{self.spec.logical_id}] code changed: new execution environment")
                    self._discard(worker)
                if self._count < self.max_workers and self._initialising < INITS_AT_ONCE:  # all busy: scale out
                    self._count += 1
                    self._initialising += 1
                    self._busy += 1
                    self._peak = max(self._peak, self._count)
                    break
                self._condition.wait()
        try:  # spawning and init take a while: outside the lock
            worker = WorkerProcess(self.spec, self.environment, self._python, self._log)
        except BaseException:
            with self._condition:
                self._count -= 1
                self._initialising -= 1
                self._busy -= 1
                self._condition.notify_all()
            raise
        worker.code_version = code_version
        with self._condition:
            self._workers.append(worker)
            self.spawned_pids.append(worker.pid)
            if self._count > 1:
                self._log(f"[{self.spec.logical_id}] all {self._count - 1} workers busy: started worker {worker.pid}")
        try:
            worker.initialise()  # a failed init is kept by the worker: its invocation returns it
        finally:
            with self._condition:
                self._initialising -= 1
                self._condition.notify_all()  # the next environment may start now
        return worker

    def _release(self, worker: WorkerProcess) -> None:
        with self._condition:
            self._busy -= 1
            if worker.alive and not self._closed:
                self._idle.append((worker, self._clock()))
            else:
                self._discard(worker)
            self._condition.notify()

    def _retire_expired(self) -> None:
        """Stop the workers idle longer than the timeout (called with the lock held)."""
        now = self._clock()
        expired = [worker for worker, since in self._idle if now - since >= self._idle_timeout_s]
        if not expired:
            return
        self._idle = [(worker, since) for worker, since in self._idle if worker not in expired]
        for worker in expired:
            self._log(f"[{self.spec.logical_id}] worker {worker.pid} idle for {self._idle_timeout_s:.0f} s: retired")
            self._discard(worker)

    def _discard(self, worker: WorkerProcess) -> None:
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
        max_workers: int = DEFAULT_MAX_WORKERS,
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
