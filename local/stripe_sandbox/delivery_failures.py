"""Webhook chaos of the failing kind: deliveries answered as if the endpoint were down.

``fail`` (0..1) is the share of delivery attempts that fail; ``fail_seconds`` makes EVERY attempt fail for
that long from now (an outage); ``fail_mode`` says how: ``"status"`` (the endpoint answers 500 at once) or
``"timeout"`` (no answer within the delivery timeout: the attempt takes that long). A failed attempt never
reaches the endpoint, so after the last retry the event is missed, as with Stripe after a long outage.
``max_attempts`` overrides how many attempts an event gets (1 = no retries; default 1 + the retry delays).
"""

from __future__ import annotations

import random
import time
from typing import Any, Literal

FailMode = Literal["status", "timeout"]
KEYS = frozenset({"fail", "fail_mode", "fail_seconds", "max_attempts"})
SIMULATED_BODY = '{"message": "Internal Server Error"}'


class DeliveryFailures:
    def __init__(self) -> None:
        self.fail = 0.0
        self.mode: FailMode = "status"
        self.fail_until: float | None = None  # unix time: every attempt fails before it
        self.max_attempts: int | None = None

    def configure(self, config: dict[str, Any], now: float) -> None:
        """Apply the failure keys of a ``POST /_sandbox/chaos`` body (validated first: all or nothing)."""
        fail = config.get("fail", self.fail)
        if isinstance(fail, bool):
            fail = 1.0 if fail else 0.0
        if not isinstance(fail, (int, float)) or not 0.0 <= fail <= 1.0:
            raise ValueError("fail must be a probability between 0 and 1 or a boolean")
        mode = config.get("fail_mode", self.mode)
        if mode not in ("status", "timeout"):
            raise ValueError('fail_mode must be "status" or "timeout"')
        attempts = config.get("max_attempts", self.max_attempts)
        if attempts is not None and (isinstance(attempts, bool) or not isinstance(attempts, int) or attempts < 1):
            raise ValueError("max_attempts must be an integer >= 1, or null for the retry schedule")
        seconds = config.get("fail_seconds")
        if seconds is not None and (isinstance(seconds, bool) or not isinstance(seconds, (int, float))
                                    or seconds < 0):
            raise ValueError("fail_seconds must be a non-negative number of seconds")
        self.fail, self.mode, self.max_attempts = float(fail), mode, attempts
        if seconds is not None:
            self.fail_until = now + seconds if seconds > 0 else None

    def snapshot(self, now: float) -> dict[str, Any]:
        outage = self.fail_until if self.fail_until is not None and self.fail_until > now else None
        return {"fail": self.fail, "fail_mode": self.mode, "fail_until": outage, "max_attempts": self.max_attempts}

    def attempts(self, retry_delays: list[float]) -> int:
        return self.max_attempts if self.max_attempts is not None else 1 + len(retry_delays)

    def failure(self, rng: random.Random, now: float | None = None) -> FailMode | None:
        """Whether this attempt fails, and how (None: deliver for real)."""
        moment = time.time() if now is None else now
        if self.fail_until is not None and moment < self.fail_until:
            return self.mode
        return self.mode if self.fail > 0 and rng.random() < self.fail else None


def retry_delay(retry_delays: list[float], attempt: int) -> float:
    """Seconds before the attempt after ``attempt`` (attempts past the schedule reuse its last delay)."""
    if not retry_delays:
        return 0.0
    return retry_delays[min(attempt, len(retry_delays)) - 1]
