"""One Lambda execution environment: imports the handler and runs invocations sent by the local stack.

Started by :mod:`local.stack.lambda_runtime` as ``python -u lambda_worker.py <request-fd> <response-fd>``
(run by path, not with ``-m``, so that the repository is not on the function's import path). The function's
environment is the process environment; sys.path is set the way Lambda sets it: the code directory
(LAMBDA_TASK_ROOT) first, then the layers (PYTHONPATH), then the interpreter's site-packages.

Protocol on the two pipes: 4-byte big-endian length + JSON. First the worker reports its init (the handler's
import) with ``{"ok": true, "payload": null}`` or, having failed, the error, and exits. Then, per request
``{"request_id", "deadline_ms", "invoked_function_arn", "event"}``, a response ``{"ok": true, "payload": ...}``
or ``{"ok": false, "payload": {"errorMessage", "errorType", "requestId", "stackTrace"}}``. EOF on the
request pipe ends the process (the stack stopped or died). Only the standard library is used before the
handler is imported.
"""

from __future__ import annotations

import importlib
import json
import os
import signal
import struct
import sys
import time
import traceback
from collections.abc import Callable
from typing import Any

_HEADER = struct.Struct(">I")


def read_message(fd: int) -> Any | None:
    header = _read_exactly(fd, _HEADER.size)
    if header is None:
        return None
    (length,) = _HEADER.unpack(header)
    body = _read_exactly(fd, length)
    if body is None:
        return None
    return json.loads(body)


def write_message(fd: int, message: Any) -> None:
    body = json.dumps(message).encode()
    data = _HEADER.pack(len(body)) + body
    while data:
        written = os.write(fd, data)
        data = data[written:]


def _read_exactly(fd: int, size: int) -> bytes | None:
    chunks = bytearray()
    while len(chunks) < size:
        chunk = os.read(fd, size - len(chunks))
        if not chunk:
            return None
        chunks += chunk
    return bytes(chunks)


class LambdaContext:
    """The attributes and method of the context object the Python runtime passes to handlers."""

    def __init__(self, request_id: str, invoked_function_arn: str, deadline_ms: int) -> None:
        self.function_name = os.environ["AWS_LAMBDA_FUNCTION_NAME"]
        self.function_version = os.environ.get("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        self.memory_limit_in_mb = os.environ["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"]
        self.log_group_name = os.environ.get("AWS_LAMBDA_LOG_GROUP_NAME", "")
        self.log_stream_name = os.environ.get("AWS_LAMBDA_LOG_STREAM_NAME", "")
        self.invoked_function_arn = invoked_function_arn
        self.aws_request_id = request_id
        self.identity = None
        self.client_context = None
        self.tenant_id = None
        self._deadline_ms = deadline_ms

    def get_remaining_time_in_millis(self) -> int:
        return max(0, self._deadline_ms - int(time.time() * 1000))


def error_payload(error: BaseException, error_type: str | None = None, request_id: str = "") -> dict[str, Any]:
    frames = traceback.extract_tb(error.__traceback__)
    return {
        "errorMessage": str(error),
        "errorType": error_type or type(error).__name__,
        "requestId": request_id,
        "stackTrace": traceback.format_list(frames),
    }


def load_handler(handler: str) -> Callable[[Any, Any], Any]:
    """Import ``module.function`` like the runtime, with its error types for import/handler failures."""
    module_name, _, function_name = handler.rpartition(".")
    try:
        module = importlib.import_module(module_name.replace("/", "."))
    except ImportError as error:
        raise _RuntimeError("Runtime.ImportModuleError", f"Unable to import module '{module_name}': {error}") from error
    except SyntaxError as error:
        raise _RuntimeError(
            "Runtime.UserCodeSyntaxError", f"Syntax error in module '{module_name}': {error}"
        ) from error
    function = getattr(module, function_name, None)
    if function is None:
        raise _RuntimeError("Runtime.HandlerNotFound", f"Handler '{function_name}' missing on module '{module_name}'")
    return function


class _RuntimeError(Exception):
    def __init__(self, error_type: str, message: str) -> None:
        super().__init__(message)
        self.error_type = error_type


def _log_error(payload: dict[str, Any]) -> None:
    # The runtime logs an unhandled error before returning it (that is what shows up in CloudWatch).
    print(
        f"[ERROR] {payload['errorType']}: {payload['errorMessage']}\nTraceback (most recent call last):\n"
        + "".join(payload["stackTrace"]),
        file=sys.stderr,
        flush=True,
    )


def main(request_fd: int, response_fd: int) -> None:
    # Ctrl-C in the terminal reaches the whole process group; the stack (not the worker) decides to stop.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    task_root = os.environ["LAMBDA_TASK_ROOT"]
    layers = [path for path in os.environ.get("PYTHONPATH", "").split(os.pathsep) if path]
    # sys.path[0] is this file's directory: replace it with the code and layers, as Lambda orders them.
    sys.path[0:1] = [task_root]
    for index, layer in enumerate(layers):
        if layer in sys.path:
            sys.path.remove(layer)
        sys.path.insert(1 + index, layer)
    os.chdir(task_root)

    # Init phase: import the handler before the first request (its outcome is the first message). A failed
    # init ends this environment; the stack starts a fresh one, which retries init, as Lambda does.
    try:
        handler = load_handler(os.environ["_HANDLER"])
    except Exception as error:
        payload = error_payload(error, getattr(error, "error_type", None))
        _log_error(payload)
        sys.stdout.flush()
        write_message(response_fd, {"ok": False, "payload": payload})
        return
    write_message(response_fd, {"ok": True, "payload": None})

    while True:
        request = read_message(request_fd)
        if request is None:
            return
        request_id = request["request_id"]
        try:
            context = LambdaContext(request_id, request["invoked_function_arn"], request["deadline_ms"])
            result = handler(request["event"], context)
            try:
                response: dict[str, Any] = {"ok": True, "payload": json.loads(json.dumps(result))}
            except (TypeError, ValueError) as error:
                raise _RuntimeError("Runtime.MarshalError", f"Unable to marshal response: {error}") from error
        except _RuntimeError as error:
            payload = error_payload(error, error.error_type, request_id)
            _log_error(payload)
            response = {"ok": False, "payload": payload}
        except Exception as error:
            payload = error_payload(error, request_id=request_id)
            _log_error(payload)
            response = {"ok": False, "payload": payload}
        sys.stdout.flush()
        sys.stderr.flush()
        write_message(response_fd, response)


if __name__ == "__main__":
    main(int(sys.argv[1]), int(sys.argv[2]))
