"""The correlation id that follows one purchase from the API request (or the Stripe event) through the bus, every
consumer's log lines, the payment record and the e-mails it leads to.

It is bound per unit of work: per API request by the resolver (``coursepay.api.resolver``), per SQS record by the
consumer runner. While bound it is the Powertools logger's ``correlation_id`` (every log line of the request or
record carries it), the ``correlation_id`` of every envelope built and payment recorded, and the ``X-Correlation-ID``
header of every e-mail sent.

A purchase has an id of its own (:func:`of_purchase_attempt`), derived from its Stripe idempotency key: the checkout
writes it into the Stripe objects' metadata and onto the payment, so the Stripe events of the purchase (relayed by
the webhook in another request) carry it back (``coursepay.webhooks.relay``), and every request of one attempt sends
Stripe the same metadata. The ``purchase traced`` log line (:func:`trace_purchase`) links a request to it.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from coursepay.observability import logger

# The request and response header (API Gateway lower-cases request headers), the metadata key on Stripe objects,
# and the e-mail header.
CORRELATION_HEADER = "x-correlation-id"
METADATA_KEY = "correlation_id"
EMAIL_HEADER = "X-Correlation-ID"

# A caller's own id is taken only when it cannot break a log line, a header or Stripe's metadata (500 chars max).
# API Gateway's own request ids are base64-like ("JTHoQiZgIAMEJnA="): '+', '/' and '=' are allowed.
_WELL_FORMED = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:+/=-]{7,127}$")

# The purchase ids' namespace: fixed, so an attempt's id is the same in every container and release.
_PURCHASE_NAMESPACE = uuid.UUID("7816f50b-41da-4935-b508-d072ed3b119c")

_current: ContextVar[str | None] = ContextVar("coursepay_correlation_id", default=None)


def current_correlation_id() -> str | None:
    return _current.get()


def traced(fallback: str | None) -> str | None:
    """The bound correlation id; ``fallback`` (e.g. the id of the event that caused this one) outside a unit of work."""
    return _current.get() or fallback


def well_formed(value: Any) -> bool:
    return isinstance(value, str) and _WELL_FORMED.match(value) is not None


@contextmanager
def correlated(correlation_id: str) -> Iterator[str]:
    """Binds ``correlation_id`` (contextvar and logger) for the block; unbound after it, so a warm container's next
    request or record never inherits it."""
    token = _current.set(correlation_id)
    logger.set_correlation_id(correlation_id)
    try:
        yield correlation_id
    finally:
        _current.reset(token)
        logger.set_correlation_id(_current.get())


def of_api_request(event: Mapping[str, Any]) -> str:
    """The caller's well-formed ``x-correlation-id`` header, else API Gateway's request id."""
    headers = event.get("headers") or {}
    given = next((value for name, value in headers.items() if name.lower() == CORRELATION_HEADER), None)
    if well_formed(given):
        return str(given)
    return str((event.get("requestContext") or {}).get("requestId") or f"req_{uuid.uuid4().hex}")


def of_stripe_event(event: Mapping[str, Any]) -> str:
    """The purchase's id that the checkout put in the object's metadata, else the Stripe event's own id."""
    obj = (event.get("data") or {}).get("object") or {}
    metadata = obj.get("metadata") if isinstance(obj, Mapping) else None
    given = metadata.get(METADATA_KEY) if isinstance(metadata, Mapping) else None
    return str(given) if well_formed(given) else str(event["id"])


def of_purchase_attempt(idempotency_key: str) -> str:
    """The purchase attempt's id, the same for every request of its Stripe idempotency key (double clicks,
    concurrent tabs, a retry): Stripe refuses a repeated key whose metadata differs."""
    return f"pur-{uuid.uuid5(_PURCHASE_NAMESPACE, idempotency_key).hex}"


def trace_purchase(idempotency_key: str) -> str:
    """The attempt's id (:func:`of_purchase_attempt`), logged once per request with the request's own id (the log
    line's ``correlation_id``, the response's ``x-correlation-id``): the link from the one to the other."""
    purchase_id = of_purchase_attempt(idempotency_key)
    logger.info("purchase traced", extra={"purchase_correlation_id": purchase_id})
    return purchase_id
