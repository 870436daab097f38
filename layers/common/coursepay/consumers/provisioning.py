"""What the provisioning consumer does per event type. Each later feature registers its handlers here."""

from __future__ import annotations

from coursepay.consumers.runner import EventConsumer
from coursepay.events.handlers import EnvelopeHandler
from coursepay.settings import ProvisioningSettings, load_settings
from coursepay.storage.idempotency import IdempotencyStore

CONSUMER_NAME = "provisioning"


def handlers(settings: ProvisioningSettings) -> dict[str, EnvelopeHandler]:
    from coursepay.tracks import provisioning as tracks

    return {**tracks.handlers(settings)}


def build_consumer() -> EventConsumer:
    settings = load_settings(ProvisioningSettings)
    return EventConsumer(CONSUMER_NAME, IdempotencyStore(settings.idempotency_table), handlers(settings))
