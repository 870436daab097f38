"""What the buyer hears about refunds: a refund processed (partial or full, and what it did to access), a
refund request approved or denied, a duplicate purchase refunded automatically.

Access after a refund follows the refund policy (docs/engineering.md): a full refund ends access (for a track:
the enrollment and its tools are withdrawn), a partial one keeps it, and refunding a duplicate purchase leaves
the access the buyer already had. For a track, this e-mail is also the withdrawal notice: the withdrawal event
of a refund sends nothing more (``coursepay.tracks.welcome``). A tutoring booking's refund is told by the
booking's own ``booking.refunded`` e-mail (the session it was for): ``payment.refunded`` of kind ``booking`` sends
nothing.
"""

from __future__ import annotations

from typing import Literal

from coursepay.billing.events import DuplicatePurchaseRefunded, PaymentRefunded, RefundRequestDecided
from coursepay.events.envelope import Envelope
from coursepay.notifications.money import format_amount
from coursepay.notifications.payment_notices import BOOKING_KIND
from coursepay.notifications.postbox import Postbox

TRACK_KIND = "track"

AccessAfterRefund = Literal["enrollment_withdrawn", "ended", "kept", "duplicate"]


def access_after_refund(event: PaymentRefunded) -> AccessAfterRefund:
    if event.duplicate_of:
        return "duplicate"
    if not event.full:
        return "kept"
    return "enrollment_withdrawn" if event.kind == TRACK_KIND else "ended"


def refund_subject(event: PaymentRefunded, access: AccessAfterRefund) -> str:
    if access == "enrollment_withdrawn":
        return f"Refunded in full: your {event.item_name} enrollment has ended"
    if access == "ended":
        return f"Refunded in full: your access to {event.item_name} has ended"
    if event.full:
        return f"Refunded in full: {event.item_name}"
    return f"Partial refund of {format_amount(event.refund_amount, event.currency)}: {event.item_name}"


class RefundNotices:
    def __init__(self, postbox: Postbox) -> None:
        self._postbox = postbox

    def on_refunded(self, envelope: Envelope) -> None:
        event = PaymentRefunded.model_validate(envelope.data)
        if event.kind == BOOKING_KIND:
            return
        access = access_after_refund(event)
        self._postbox.send_to_user(event.user_id, "refund_processed", refund_subject(event, access), access=access,
                                   **event.model_dump())

    def on_request_approved(self, envelope: Envelope) -> None:
        event = RefundRequestDecided.model_validate(envelope.data)
        self._postbox.send_to_user(event.user_id, "refund_request_approved",
                                   f"Your refund request for {event.item_name} was approved", **event.model_dump())

    def on_request_denied(self, envelope: Envelope) -> None:
        event = RefundRequestDecided.model_validate(envelope.data)
        self._postbox.send_to_user(event.user_id, "refund_request_denied",
                                   f"Your refund request for {event.item_name} was not approved",
                                   **event.model_dump())

    def on_duplicate_refunded(self, envelope: Envelope) -> None:
        event = DuplicatePurchaseRefunded.model_validate(envelope.data)
        self._postbox.send_to_user(event.user_id, "duplicate_refunded",
                                   f"You already own {event.item_name}: your new payment is refunded",
                                   **event.model_dump())
