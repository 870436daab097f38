"""The versioned envelope every event on the coursepay bus carries in its EventBridge ``detail``.

``source`` is ``coursepay.<context>`` (``coursepay.stripe`` for Stripe events relayed by the webhook);
``type`` is the EventBridge detail-type (the Stripe event type, or a domain type such as
``enrollment.created``); ``id`` is unique per event and is what consumers deduplicate on.
"""

from __future__ import annotations

import json
import uuid
from typing import Any, Literal

from pydantic import BaseModel, Field

from coursepay.clock import iso_now
from coursepay.correlation import current_correlation_id
from coursepay.errors import DomainError

ENVELOPE_VERSION: Literal["1"] = "1"


class UnsupportedEnvelope(DomainError):
    """A message that is not a coursepay envelope of a version this code reads: fail it loudly, so it
    is retried and then lands in the DLQ for a person to look at."""

    code = "unsupported_envelope"


class Envelope(BaseModel):
    version: Literal["1"] = ENVELOPE_VERSION
    id: str = Field(default_factory=lambda: f"ev_{uuid.uuid4().hex}")
    source: str
    type: str
    occurred_at: str = Field(default_factory=iso_now)
    # the purchase's trace (coursepay.correlation): the id bound where the envelope is built, unless given
    correlation_id: str | None = Field(default_factory=current_correlation_id)
    data: dict[str, Any]

    @classmethod
    def from_eventbridge(cls, event: dict[str, Any]) -> Envelope:
        """From an EventBridge event (as an SQS target receives it in its body)."""
        detail = event.get("detail")
        if not isinstance(detail, dict) or detail.get("version") != ENVELOPE_VERSION:
            version = detail.get("version") if isinstance(detail, dict) else None
            raise UnsupportedEnvelope(f"not a coursepay v{ENVELOPE_VERSION} envelope (version={version!r})")
        return cls.model_validate(detail)

    @classmethod
    def from_sqs_body(cls, body: str) -> Envelope:
        try:
            event = json.loads(body)
        except json.JSONDecodeError as error:
            raise UnsupportedEnvelope("message body is not JSON") from error
        if not isinstance(event, dict):
            raise UnsupportedEnvelope("message body is not an EventBridge event")
        return cls.from_eventbridge(event)
