"""Paying a confirmed booking (``POST /bookings/{id}/pay``), through the billing core: a saved card (the core's one
PaymentIntent path, confirmed with the card) or a new card on the hosted page (the core's one checkout path).

The amount is the booking's ``total_amount``, computed on the server at the quote. Every Stripe object of a booking
carries ``metadata.kind=booking`` and ``booking_id`` (the fulfilment consumer's dispatch) and ``transfer_group =
<booking id>``: the charge is the platform's, the teacher's base amount is transferred from it once the booking is
completed (separate charges and transfers, docs/decisions.md). One PaymentIntent per booking whatever the clicks
(``coursepay.billing.intents``); a booking paid already answers with the intent that paid it.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any, Self

from pydantic import BaseModel, ConfigDict, model_validator

from coursepay.billing.cards import SavedCards
from coursepay.billing.checkout import Buyer, Offer, check_redirect
from coursepay.billing.core import BillingCore
from coursepay.billing.customers import CustomerDirectory
from coursepay.billing.intents import IntentBuyer, IntentOffer
from coursepay.bookings.booking_repository import BookingsRepository
from coursepay.bookings.bookings import Booking
from coursepay.clock import iso_now
from coursepay.errors import Conflict, InvalidRequest, NotFound
from coursepay.identity import Principal
from coursepay.stripe_gateway.errors import stripe_errors

KIND = "booking"
BOOKING_ID = re.compile(r"^bk_[A-Za-z0-9]{1,64}$")
PAID_STATES = frozenset({"paid", "processing", "refunded", "partially_refunded"})


class PayRequest(BaseModel):
    """Either a saved card (``payment_method_id``) or the hosted page (``hosted: true`` with its URLs)."""

    model_config = ConfigDict(extra="forbid")

    payment_method_id: str | None = None
    return_url: str | None = None  # where 3-D Secure sends the browser back (an allowed origin)
    hosted: bool = False
    save_card: bool = False
    success_url: str | None = None
    cancel_url: str | None = None

    @model_validator(mode="after")
    def _one_way(self) -> Self:
        if self.hosted == (self.payment_method_id is not None):
            raise ValueError("give either payment_method_id (a saved card) or hosted: true (a new card)")
        if self.hosted and (not self.success_url or not self.cancel_url):
            raise ValueError("the hosted page needs success_url and cancel_url")
        if not self.hosted and (self.save_card or self.success_url or self.cancel_url):
            raise ValueError("save_card, success_url and cancel_url belong to the hosted page (hosted: true)")
        return self


def intent_view(intent: Any) -> dict[str, Any]:
    view: dict[str, Any] = {"payment_intent_id": intent.id, "status": intent.status,
                            "client_secret": intent.client_secret}
    if intent.status == "requires_action" and intent.next_action is not None:
        view["next_action"] = intent.next_action.to_dict()
    return view


def booking_metadata(booking: Booking) -> dict[str, str]:
    return {"booking_id": booking.booking_id, "gig_id": booking.gig_id, "teacher_id": booking.teacher_id}


def item_name(booking: Booking) -> str:
    return f"{booking.gig_title}, {booking.duration_minutes} minutes"


class BookingPayments:
    def __init__(self, *, core: BillingCore, bookings: BookingsRepository, cards: SavedCards,
                 customers: CustomerDirectory, contact_of: Callable[[Principal], tuple[str, str | None]],
                 allowed_origins: tuple[str, ...], now: Callable[[], str] = iso_now) -> None:
        self._core = core
        self._bookings = bookings
        self._cards = cards
        self._customers = customers
        self._contact_of = contact_of
        self._origins = allowed_origins
        self._now = now

    def pay(self, principal: Principal, booking_id: str, request: PayRequest) -> dict[str, Any]:
        """The intent's view for a saved card, ``{checkout_url, session_id}`` for the hosted page."""
        booking = self._payable(principal, booking_id)
        if booking.payment_status in PAID_STATES and booking.payment_intent_id:
            with stripe_errors("read the booking's payment"):
                return intent_view(self._core.stripe().v1.payment_intents.retrieve(booking.payment_intent_id))
        if request.payment_method_id is None:  # hosted: true (the request model allows nothing else)
            return self._hosted(principal, booking, request)
        customer_id = self._cards.owned(principal, request.payment_method_id)
        return_url = check_redirect(request.return_url, "return_url", self._origins) if request.return_url else None
        opened = self._core.intents.open(IntentBuyer(user_id=principal.user_id, customer_id=customer_id), IntentOffer(
            kind=KIND, item_id=booking.booking_id, name=item_name(booking), amount=booking.total_amount,
            currency=booking.currency, metadata=booking_metadata(booking),
            params={"payment_method_types": ["card"], "transfer_group": booking.booking_id}))
        return intent_view(self._core.intents.confirm(opened.intent, request.payment_method_id,
                                                      return_url=return_url))

    def _payable(self, principal: Principal, booking_id: str) -> Booking:
        booking = self._bookings.get(booking_id) if BOOKING_ID.match(booking_id) else None
        if booking is None or booking.student_id != principal.user_id:
            raise NotFound("no such booking", field="bookingId")  # another's booking is indistinguishable
        if booking.payment_status in PAID_STATES:
            return booking
        if booking.status != "confirmed":
            raise Conflict(f"this booking is {booking.status}: only a confirmed booking is paid",
                           field="bookingId", code="booking_not_payable")
        if booking.payment_due is not None and self._now() >= booking.payment_due:
            raise Conflict("the payment deadline of this booking has passed", field="bookingId",
                           code="payment_deadline_passed")
        return booking

    def _hosted(self, principal: Principal, booking: Booking, request: PayRequest) -> dict[str, Any]:
        if not request.success_url or not request.cancel_url:
            raise InvalidRequest("the hosted page needs success_url and cancel_url", field="success_url")
        email, name = self._contact_of(principal)
        buyer = Buyer(key=principal.user_id, user_id=principal.user_id,
                      customer_id=self._customers.ensure_customer(principal.user_id, email, name))
        offer = Offer(kind=KIND, item_id=booking.booking_id, name=item_name(booking), pricing="one_time",
                      amount=booking.total_amount, currency=booking.currency, metadata=booking_metadata(booking),
                      line_item={"price_data": {"currency": booking.currency, "unit_amount": booking.total_amount,
                                                "product_data": {"name": item_name(booking)}}})
        intent_data: dict[str, Any] = {"transfer_group": booking.booking_id}
        if request.save_card:
            intent_data["setup_future_usage"] = "off_session"
        session = self._core.checkout.open(buyer, offer, success_url=request.success_url,
                                           cancel_url=request.cancel_url, intent_data=intent_data)
        return {"checkout_url": session.url, "session_id": session.session_id}
