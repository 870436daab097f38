"""The receipt of every successful payment and the notice of a failed one (``payment.succeeded``,
``payment.failed`` from the billing core), to the buyer.

A tutoring booking's receipt is the booking's own (``booking.paid``: the session, its price and fee;
coursepay.notifications.booking_notices), so the billing core's ``payment.succeeded`` of product kind
``booking`` sends nothing: one receipt per payment."""

from __future__ import annotations

from coursepay.billing.events import PaymentFailed, PaymentSucceeded
from coursepay.events.envelope import Envelope
from coursepay.notifications.postbox import Postbox

BOOKING_KIND = "booking"  # the billing core's product kind of a tutoring booking


class PaymentNotices:
    def __init__(self, postbox: Postbox) -> None:
        self._postbox = postbox

    def on_succeeded(self, envelope: Envelope) -> None:
        event = PaymentSucceeded.model_validate(envelope.data)
        if event.kind == BOOKING_KIND:
            return
        subject = f"Your receipt for {event.item_name}" + (" (renewal)" if event.purchase == "renewal" else "")
        self._postbox.send_to_user(event.user_id, "receipt", subject, paid_on=envelope.occurred_at[:10],
                                   **event.model_dump())

    def on_failed(self, envelope: Envelope) -> None:
        event = PaymentFailed.model_validate(envelope.data)
        if event.purchase == "renewal":
            subject = f"Action needed: the renewal payment for {event.item_name} failed"
        else:
            subject = f"Your payment for {event.item_name} did not go through"
        self._postbox.send_to_user(event.user_id, "payment_failed", subject, **event.model_dump())
