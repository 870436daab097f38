"""Counting the round trips an action makes: AWS API calls by service and operation (a botocore ``before-call``
hook on the session the functions' clients come from) and Stripe HTTP requests (a counting wrapper on the Stripe
SDK's default HTTP client, so a retried request counts as the two round trips it is).

Shared by ``bench/round_trips.py`` (the table ``make bench`` prints) and ``tests/unit/test_round_trips.py`` (which
pins the counts).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from unittest import mock
from urllib.parse import urlsplit

import boto3


@dataclass
class RoundTrips:
    """What one action sent: ``aws`` keyed ``"DynamoDB.GetItem"``, ``stripe`` keyed ``"POST /v1/checkout/sessions"``."""

    aws: Counter[str] = field(default_factory=Counter)
    stripe: Counter[str] = field(default_factory=Counter)

    @property
    def stripe_calls(self) -> int:
        return sum(self.stripe.values())

    @property
    def aws_calls(self) -> int:
        return sum(self.aws.values())

    @property
    def total(self) -> int:
        return self.stripe_calls + self.aws_calls

    def of_service(self, service: str) -> int:
        return sum(count for name, count in self.aws.items() if name.startswith(f"{service}."))


class CallCounter:
    """Installed once (:meth:`installed`), then :meth:`action` collects what one action sends."""

    def __init__(self) -> None:
        self._current: RoundTrips | None = None

    def _on_aws_call(self, model: Any, **_: Any) -> None:
        if self._current is not None:
            self._current.aws[f"{model.service_model.service_id}.{model.name}"] += 1

    @contextmanager
    def installed(self, session: boto3.Session) -> Iterator[CallCounter]:
        """Hook ``session`` (register before its clients are made: a client copies the session's hooks) and the
        Stripe SDK's HTTP client, for the block."""
        import stripe

        original = stripe.RequestsClient.request
        counter = self

        def counting_request(client: Any, method: str, url: str, headers: Any, post_data: Any = None) -> Any:
            if counter._current is not None:
                counter._current.stripe[f"{method.upper()} {urlsplit(url).path}"] += 1
            return original(client, method, url, headers, post_data)

        session.events.register("before-call", self._on_aws_call, unique_id="bench-round-trips")
        try:
            with mock.patch.object(stripe.RequestsClient, "request", counting_request):
                yield self
        finally:
            session.events.unregister("before-call", unique_id="bench-round-trips")

    @contextmanager
    def action(self) -> Iterator[RoundTrips]:
        if self._current is not None:
            raise RuntimeError("actions do not nest: each is counted on its own")
        trips = self._current = RoundTrips()
        try:
            yield trips
        finally:
            self._current = None
