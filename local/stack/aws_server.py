"""moto's server as the local AWS, in a process of its own.

A separate process (rather than ThreadedMotoServer inside the stack) keeps moto's global state away from
the process that starts the stack: unit tests using ``mock_aws`` in the same pytest run reset moto's
in-process backends, which would wipe the running stack. It also gives moto its own core and GIL.

Run as ``python -m local.stack.aws_server --port N``: prints ``READY <port>`` once listening, exits when its
stdin closes (the stack stopped or died), and serves, next to the AWS APIs, ``GET /_local/ses/messages``:
every e-mail the SES backends accepted, for the stack's outbox.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any

from local.stack import moto_atomic, moto_speedups
from local.stack.ses_messages import sent_messages

SES_MESSAGES_PATH = "/_local/ses/messages"


class _LocalEndpoints:
    """WSGI middleware: the stack's own read-only endpoints, everything else to moto."""

    def __init__(self, moto_app: Callable[..., Iterable[bytes]]) -> None:
        self._moto_app = moto_app
        self._parsed: dict[str, dict[str, Any]] = {}  # by message id: tests poll the outbox many times a second

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if environ.get("PATH_INFO") == SES_MESSAGES_PATH and environ.get("REQUEST_METHOD") == "GET":
            messages = sent_messages(self._parsed)
            for message in messages:  # moto keeps no send time; the first read is close enough locally
                message.setdefault("seen_at", time.time())
            body = json.dumps(messages).encode()
            start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
            return [body]
        return self._moto_app(environ, start_response)


def _exit_when_parent_goes(stream: Any) -> None:
    while stream.read(1024):
        pass
    os._exit(0)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=5050)
    args = parser.parse_args(argv)
    # Ctrl-C reaches the whole process group; the stack stops us after its pollers (by closing stdin).
    signal.signal(signal.SIGINT, signal.SIG_IGN)

    from moto.moto_server.werkzeug_app import MotoRequestHandler, create_backend_app
    from werkzeug.serving import make_server

    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # one line per AWS call drowns the stack log
    moto_speedups.apply()
    moto_atomic.apply()
    app = _LocalEndpoints(moto_speedups.dispatcher(create_backend_app))
    server = make_server(args.host, args.port, app, threaded=True, request_handler=MotoRequestHandler)
    threading.Thread(target=_exit_when_parent_goes, args=(sys.stdin.buffer,), daemon=True).start()
    print(f"READY {server.server_port}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
