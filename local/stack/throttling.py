"""HTTP API route throttling, locally: the stage's ``DefaultRouteSettings`` and per-route ``RouteSettings``
(``ThrottlingRateLimit`` requests per second, ``ThrottlingBurstLimit`` the bucket's size), enforced as API Gateway
does - one token bucket per route, shared by every client, checked before the authorizer runs; a request that
finds the bucket empty is refused with 429 and never reaches the function."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class ThrottleLimit:
    rate: float  # tokens added per second
    burst: int  # the bucket's size


@dataclass(frozen=True)
class ThrottleSpec:
    default: ThrottleLimit | None = None
    per_route: Mapping[str, ThrottleLimit] = field(default_factory=dict)  # route key ("POST /auth/login") -> limit

    def limit_for(self, route_key: str) -> ThrottleLimit | None:
        return self.per_route.get(route_key, self.default)


def _limit(settings: Mapping[str, Any] | None, fallback: ThrottleLimit | None) -> ThrottleLimit | None:
    settings = settings or {}
    rate, burst = settings.get("ThrottlingRateLimit"), settings.get("ThrottlingBurstLimit")
    if rate is None and burst is None:
        return fallback
    return ThrottleLimit(rate=float(rate if rate is not None else fallback.rate if fallback else 0),
                         burst=int(float(burst if burst is not None else fallback.burst if fallback else 0)))


def throttle_spec(api_properties: Mapping[str, Any]) -> ThrottleSpec:
    """From a resolved ``AWS::Serverless::HttpApi``'s properties (a route setting inherits what it leaves out)."""
    default = _limit(api_properties.get("DefaultRouteSettings"), None)
    routes = api_properties.get("RouteSettings") or {}
    per_route = {key: limit for key, settings in routes.items() if (limit := _limit(settings, default)) is not None}
    return ThrottleSpec(default=default, per_route=per_route)


class RouteThrottle:
    """The token buckets of one stage. ``clock`` is injectable so that tests can refill a bucket without waiting."""

    def __init__(self, spec: ThrottleSpec, clock: Callable[[], float] = time.monotonic) -> None:
        self._spec = spec
        self._clock = clock
        self._lock = threading.Lock()
        self._buckets: dict[str, tuple[float, float]] = {}  # route key -> (tokens, when last refilled)

    def admit(self, route_key: str) -> bool:
        limit = self._spec.limit_for(route_key)
        if limit is None:
            return True
        with self._lock:
            now = self._clock()
            tokens, then = self._buckets.get(route_key, (float(limit.burst), now))
            tokens = min(float(limit.burst), tokens + (now - then) * limit.rate)
            admitted = tokens >= 1.0
            self._buckets[route_key] = (tokens - 1.0 if admitted else tokens, now)
            return admitted
