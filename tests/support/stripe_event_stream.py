"""In-process, what StripeEventsTable's stream does in AWS: moto's stream records of the stored Stripe events
go through the local stack's stream event source mapping (``local.stack.stream_poller``: the template's filter,
batches, partial failures, retries) into ``functions/stripe_events_publisher``, which puts them on the bus."""

from __future__ import annotations

import importlib
import sys
from typing import Any

import pytest

from local.stack.lambda_runtime import Invocation
from local.stack.sam import build_model
from local.stack.stream_poller import StreamPoller

PUBLISHER = "StripeEventsPublisherFunction"
_MODULE = "functions.stripe_events_publisher.app"


class StripeEventStream:
    def __init__(self, aws: Any, monkeypatch: pytest.MonkeyPatch, lambda_context: Any) -> None:
        model = build_model(aws.provisioned.template, aws.provisioned.resolver)
        (source,) = [source for source in model.stream_sources if source.function == PUBLISHER]
        self.environment = dict(model.functions[PUBLISHER].environment)  # the publisher's, from template.yaml
        self._monkeypatch = monkeypatch
        self._context = lambda_context
        self._module: Any = None
        self.invocations: list[Invocation] = []
        self.source = source
        self._poller = StreamPoller(source, aws.client("dynamodbstreams"), aws.client("sqs"), self._invoke,
                                    log=lambda line: None, retry_backoff_s=0.0)

    def publish(self, *, max_polls: int = 50) -> int:
        """Feed every stream record written so far to the publisher until none is left (or ``max_polls``);
        returns the number of invocations."""
        before = len(self.invocations)
        for _ in range(max_polls):
            self._poller.poll_once()
            if not self._poller.pending:
                break
        return len(self.invocations) - before

    def _invoke(self, function: str, event: dict[str, Any]) -> Invocation:
        # the publisher's own environment for its call only: the test's other functions keep theirs
        with self._monkeypatch.context() as patch:
            for name, value in self.environment.items():
                patch.setenv(name, value)
            if self._module is None:
                self._module = (importlib.reload(sys.modules[_MODULE]) if _MODULE in sys.modules
                                else importlib.import_module(_MODULE))
            try:
                payload = self._module.lambda_handler(event, self._context)
                invocation = Invocation(request_id="in-process", ok=True, payload=payload, duration_ms=0.0)
            except Exception as error:  # Lambda reports a handler's exception as a function error
                invocation = Invocation(request_id="in-process", ok=False, duration_ms=0.0,
                                        payload={"errorType": type(error).__name__, "errorMessage": str(error)})
        self.invocations.append(invocation)
        return invocation
