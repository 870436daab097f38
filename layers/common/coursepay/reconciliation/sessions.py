"""Recovery of one Checkout Session's events, for a success page that has waited too long: if Stripe says
the session is no longer open, its ``checkout.session.*`` events (found in ``events.list`` by type, created
since the session was) are fed through the relay, which stores what was never stored (the table's stream
publishes it), so the consumers fulfil it even when the webhook never delivered them. Events stored before are
left alone; calling it again is harmless.

A caller needs: the Stripe key (``StripeSettings``), ``StripeEventRelaySettings`` (STRIPE_EVENTS_TABLE) and,
in template.yaml, ``dynamodb:PutItem`` on StripeEventsTable.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel

from coursepay.errors import NotFound
from coursepay.reconciliation.stripe_events import list_events
from coursepay.stripe_gateway.errors import stripe_errors
from coursepay.webhooks.relay import RelayOutcome, StripeEventRelay

if TYPE_CHECKING:
    import stripe

SESSION_EVENT_TYPES = frozenset({
    "checkout.session.completed",
    "checkout.session.async_payment_succeeded",
    "checkout.session.async_payment_failed",
    "checkout.session.expired",
})


class RecoveredEvent(BaseModel):
    event_id: str
    type: str
    outcome: RelayOutcome  # "recorded": it had been missed and is stored now (the stream publishes it)


class SessionRecovery(BaseModel):
    session_id: str
    session_status: Literal["open", "complete", "expired"]
    events: list[RecoveredEvent]

    @property
    def recovered(self) -> bool:
        """Whether any missed event was stored by this call."""
        return any(event.outcome == "recorded" for event in self.events)


class CheckoutSessionRecovery:
    def __init__(self, stripe_client: Callable[[], stripe.StripeClient], relay: StripeEventRelay) -> None:
        self._stripe = stripe_client
        self._relay = relay

    def recover_checkout_session(self, session_id: str) -> SessionRecovery:
        """NotFound for a session Stripe does not know; UpstreamUnavailable when Stripe cannot be reached."""
        with stripe_errors("look up the checkout session", refused=NotFound):
            session = self._stripe().v1.checkout.sessions.retrieve(session_id)
        status = session.status or "open"
        if status == "open":  # nothing has happened at Stripe yet: no event to miss
            return SessionRecovery(session_id=session_id, session_status="open", events=[])
        events = [event for event in list_events(self._stripe, types=SESSION_EVENT_TYPES, created_gte=session.created)
                  if event["data"]["object"].get("id") == session_id]
        return SessionRecovery(session_id=session_id, session_status=status, events=[
            RecoveredEvent(event_id=event["id"], type=event["type"], outcome=self._relay.relay(event))
            for event in events])
