"""One execution environment of a function: a worker process (:mod:`local.stack.lambda_worker`) and its
two pipes. Its init (the handler's import) is awaited before the first invocation; an invocation past the
function's Timeout kills the process, as Lambda does with a timed-out sandbox."""

from __future__ import annotations

import contextlib
import os
import select
import subprocess
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from local.stack.lambda_worker import read_message, write_message
from local.stack.sam import FunctionSpec

WORKER_SCRIPT = Path(__file__).with_name("lambda_worker.py")
INIT_TIMEOUT_S = 10.0  # Lambda's limit for the init phase of on-demand environments

LogSink = Callable[[str], None]


class WorkerProcess:
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
        self._init_error: dict[str, Any] | None = None
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
        """Wait for the worker's init report; None when ready, else the init error (the worker has exited).
        The outcome is kept: asking again returns it without waiting."""
        if not self._initialised:
            self._init_error = self._await_init()
            self._initialised = True
        return self._init_error

    def _await_init(self) -> dict[str, Any] | None:
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
