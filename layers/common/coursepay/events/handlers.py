"""What a consumer's per-type handler is, and how it reads the Stripe object an envelope carries. Domain
contexts register handlers of this type; the consumers (``coursepay.consumers``) run them."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from coursepay.events.envelope import Envelope

EnvelopeHandler = Callable[[Envelope], None]

# {(Stripe event type, product kind): handler}: what a product context contributes to the fulfilment consumer.
KindHandlers = Mapping[tuple[str, str], EnvelopeHandler]


def stripe_object(envelope: Envelope) -> dict[str, Any]:
    """``data.object`` of a relayed Stripe event ({} when the envelope carries none)."""
    data = envelope.data.get("data", {})
    obj = data.get("object") if isinstance(data, dict) else None
    return obj if isinstance(obj, dict) else {}
