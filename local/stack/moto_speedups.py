"""Work moto's server repeats on every request although its answer never changes, done once instead.

Measured under load (bench/load.py: webhooks at 16 concurrent; a sampling profile of the moto process), two
pieces of moto took a quarter of its time, and moto, one process and one GIL, is what the local stack waits
on under load:

- the dispatcher finds a request's backend by listing moto's package directory (a ``stat`` per service, up
  to ~170) on every request, under the one lock all requests share: the host -> backend answer is memoised;
- EventBridge's PutEvents builds each target's input from the default input paths map (about ten JSONPath
  expressions) per target and event, and ``jsonpath_ng.ext.parse`` generates a new PLY parser for each
  expression: the parsed expressions, immutable, are memoised.

A third, smaller one (6 % after those): SQS ReceiveMessage checks each message's retention by computing all of
the queue's attributes, approximate counts included (each a pass over the queue), to read one of them; the
check reads that one attribute.

None changes what moto answers; they are applied only by the local stack's moto process (aws_server.py).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

JSONPATH_CACHE_SIZE = 256  # the expressions are the input paths maps' few dozen


def dispatcher(create_backend_app: Callable[..., Any]) -> Any:
    """moto's ``DomainDispatcherApplication`` with the backend of each host resolved once."""
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication

    class MemoisingDispatcher(DomainDispatcherApplication):
        def __init__(self, create_app: Callable[..., Any]) -> None:
            super().__init__(create_app)
            self._backend_of: dict[str | None, Any] = {}  # read and written under self.lock, as moto calls it

        def get_backend_for_host(self, host: str | None) -> Any:
            if host not in self._backend_of:
                self._backend_of[host] = super().get_backend_for_host(host)
            return self._backend_of[host]

    return MemoisingDispatcher(create_backend_app)


def retained(backend: Any, queue_name: str, message: Any) -> bool:
    """SQS's retention check of a received message (``SQSBackend.is_message_valid_based_on_retention_period``),
    reading the one attribute it needs."""
    from moto.core.utils import unix_time

    # moto sets a queue's attributes with setattr, each under the snake_case of its name
    retention_s = float(backend.get_queue(queue_name).message_retention_period)
    return retention_s + (message.sent_timestamp or 0) / 1000 > unix_time()


def apply() -> None:
    """Memoised JSONPath parsing and the one-attribute retention check, for this whole process."""
    import jsonpath_ng.ext
    from moto.sqs.models import SQSBackend

    if not hasattr(jsonpath_ng.ext.parse, "cache_info"):  # moto looks ``parse`` up at each call
        jsonpath_ng.ext.parse = functools.lru_cache(maxsize=JSONPATH_CACHE_SIZE)(jsonpath_ng.ext.parse)
    SQSBackend.is_message_valid_based_on_retention_period = retained  # type: ignore[method-assign,assignment]
