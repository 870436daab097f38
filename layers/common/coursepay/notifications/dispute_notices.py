"""Disputes (chargebacks) are the admins' business: opened and closed notices go to ``AdminNotificationEmail``
with what they need to act (the payment, the buyer, the dispute), never to the buyer."""

from __future__ import annotations

from coursepay.billing.events import PaymentDisputeClosed, PaymentDisputed, PaymentFacts
from coursepay.events.envelope import Envelope
from coursepay.notifications.money import format_amount
from coursepay.notifications.postbox import Postbox


class DisputeNotices:
    def __init__(self, postbox: Postbox, admin_address: str) -> None:
        self._postbox = postbox
        self._admins = admin_address

    def _facts(self, event: PaymentFacts) -> list[tuple[str, str]]:
        buyer = self._postbox.recipients.of(event.user_id)
        return [("Item", f"{event.item_name} ({event.kind} {event.item_id})"),
                ("Payment", event.payment_id),
                ("Paid", format_amount(event.amount, event.currency)),
                ("Buyer", f"{buyer.name} <{buyer.email}> (user {event.user_id})")]

    def on_opened(self, envelope: Envelope) -> None:
        event = PaymentDisputed.model_validate(envelope.data)
        disputed = format_amount(event.disputed_amount, event.currency)
        facts = [*self._facts(event), ("Disputed", disputed), ("Bank's reason", event.reason),
                 ("Dispute", event.dispute_id)]
        self._postbox.send(self._admins, "dispute_opened",
                           f"Dispute opened: {disputed} on {event.item_name} ({event.payment_id})",
                           facts=facts, **event.model_dump())

    def on_closed(self, envelope: Envelope) -> None:
        event = PaymentDisputeClosed.model_validate(envelope.data)
        facts = [*self._facts(event), ("Outcome", event.outcome), ("Dispute", event.dispute_id)]
        self._postbox.send(self._admins, "dispute_closed",
                           f"Dispute {event.outcome}: {event.item_name} ({event.payment_id})",
                           facts=facts, **event.model_dump())
