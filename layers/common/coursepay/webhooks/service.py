"""POST /webhooks/stripe and /webhooks/stripe/connect: the only code that speaks to Stripe's webhooks; it
never calls Stripe.

1. verify the signature over the raw body with the endpoint's own secrets (any of them, for rotation;
   timestamp rule in ``coursepay.stripe_gateway.signature``); 400 and nothing stored on failure;
2. hand the event to the relay (``coursepay.webhooks.relay``): unhandled types ignored, stored once,
   published to the bus. The reconciliation feeds missed events through the same relay.

The Connect endpoint receives the events of connected accounts: each carries ``account`` (``acct_…``),
which is stored with it and travels on the bus inside the event.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from typing import Any

from pydantic import BaseModel

from coursepay import observability as figures
from coursepay.errors import InvalidRequest
from coursepay.stripe_gateway.signature import InvalidSignature, verify_signature
from coursepay.webhooks.relay import RelayOutcome, StripeEventRelay


class IngestResult(BaseModel):
    received: bool = True
    event_id: str | None = None
    outcome: RelayOutcome


class StripeWebhookIngest:
    def __init__(self, relay: StripeEventRelay, signing_secrets: Callable[[], Sequence[str]], *,
                 tolerance_seconds: int, connect: bool = False, clock: Callable[[], float] = time.time) -> None:
        self._relay = relay
        self._signing_secrets = signing_secrets
        self._tolerance = tolerance_seconds
        self._connect = connect
        self._clock = clock

    def ingest(self, raw_body: bytes, signature_header: str | None) -> IngestResult:
        """Verify and relay one delivery; its outcome is counted (``WebhookEvents``), failures included."""
        try:
            result = self._ingest(raw_body, signature_header)
        except InvalidSignature:
            figures.record(figures.WEBHOOK_EVENTS, Outcome="invalid_signature")
            raise
        except InvalidRequest:
            figures.record(figures.WEBHOOK_EVENTS, Outcome="rejected")
            raise
        except Exception:
            # Stripe retries the delivery (500); an alarm watches this count
            figures.record(figures.WEBHOOK_EVENTS, Outcome="error")
            raise
        figures.record(figures.WEBHOOK_EVENTS, Outcome=result.outcome)
        return result

    def _ingest(self, raw_body: bytes, signature_header: str | None) -> IngestResult:
        verify_signature(raw_body, signature_header, self._signing_secrets(), tolerance=self._tolerance,
                         now=self._clock())
        event = _parse_event(raw_body)
        if self._connect and not (isinstance(event.get("account"), str) and event["account"].startswith("acct_")):
            raise InvalidRequest("an event on the Connect endpoint names no connected account", field="account",
                                 code="not_a_connect_event")
        return IngestResult(event_id=event["id"], outcome=self._relay.relay(event))


def _parse_event(raw_body: bytes) -> dict[str, Any]:
    try:
        event = json.loads(raw_body)
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise InvalidSignature("the signed body is not JSON", field="body") from None
    if not (isinstance(event, dict) and isinstance(event.get("id"), str) and event["id"].startswith("evt_")
            and isinstance(event.get("type"), str) and isinstance(event.get("data"), dict)):
        raise InvalidSignature("the signed body is not a Stripe event", field="body")
    return event
