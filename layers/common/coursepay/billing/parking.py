"""Events that arrive before the payment they concern (a refund or dispute delivered before the checkout's
completion): stored, not retried blindly, and applied when the payment becomes known.

Keys (payments table): ``pk=PARKED#<payment intent>, sk=<event id>`` with the envelope. Parking and the
payment becoming known can race, so both sides re-check after their write (parking looks for the payment
again; linking a payment drains what is parked): whichever comes second applies the event, and applying it
twice changes nothing (the ledger only moves forward). Unclaimed entries expire after a year (``expires_at``):
an event for a charge coursepay never sold.
"""

from __future__ import annotations

import time

from coursepay.events.envelope import Envelope
from coursepay.storage.dynamo import DynamoTable

PARKED_RETENTION_SECONDS = 365 * 24 * 3600


def _partition(payment_intent_id: str) -> str:
    return f"PARKED#{payment_intent_id}"


class ParkedEvents:
    def __init__(self, payments_table: str) -> None:
        self._table = DynamoTable(payments_table)

    def park(self, payment_intent_id: str, envelope: Envelope) -> None:
        self._table.put({"pk": _partition(payment_intent_id), "sk": envelope.id, "event_type": envelope.type,
                         "envelope": envelope.model_dump_json(), "parked_at": int(time.time()),
                         "expires_at": int(time.time()) + PARKED_RETENTION_SECONDS})

    def waiting_for(self, payment_intent_id: str) -> list[Envelope]:
        """Parked envelopes of this PaymentIntent, oldest Stripe event first."""
        items = self._table.query_all(partition=("pk", _partition(payment_intent_id)))
        envelopes = [Envelope.model_validate_json(str(item["envelope"])) for item in items]
        return sorted(envelopes, key=lambda envelope: int(envelope.data.get("created") or 0))

    def release(self, payment_intent_id: str, event_id: str) -> None:
        self._table.delete({"pk": _partition(payment_intent_id), "sk": event_id})
