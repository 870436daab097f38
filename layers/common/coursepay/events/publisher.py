"""Publishing envelopes to the EventBridge bus. A partial failure is an error, never a silent drop."""

from __future__ import annotations

from collections.abc import Sequence

from coursepay import aws_clients
from coursepay.errors import DomainError
from coursepay.events.envelope import Envelope
from coursepay.observability import logger

_MAX_ENTRIES_PER_CALL = 10


class PublishFailed(DomainError):
    code = "publish_failed"


class EventPublisher:
    def __init__(self, bus_name: str) -> None:
        self._bus_name = bus_name

    def publish(self, envelopes: Sequence[Envelope]) -> None:
        for start in range(0, len(envelopes), _MAX_ENTRIES_PER_CALL):
            batch = envelopes[start:start + _MAX_ENTRIES_PER_CALL]
            response = aws_clients.eventbridge().put_events(Entries=[
                {
                    "EventBusName": self._bus_name,
                    "Source": envelope.source,
                    "DetailType": envelope.type,
                    "Detail": envelope.model_dump_json(),
                }
                for envelope in batch
            ])
            failed = response.get("FailedEntryCount", 0)
            if failed:
                errors = [entry for entry in response.get("Entries", []) if entry.get("ErrorCode")]
                logger.error("events not accepted by the bus", failed=failed, errors=errors)
                raise PublishFailed(f"{failed} of {len(batch)} events were not accepted by the bus")
