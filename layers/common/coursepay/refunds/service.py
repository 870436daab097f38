"""Refund requests: request (the payment's owner), list / approve / deny (admins).

Never more than was paid, never twice:
* the requested payment must have succeeded and have something left to refund; one open request per payment;
* the approved amount is 1..(amount - refunded so far), checked again at approval;
* approval claims the request (``pending -> approving``, conditional, so two admins cannot both approve) and
  creates the Stripe refund with the idempotency key ``refund-request-<id>``: a retried approval gets the same
  refund from Stripe, never a second one (and Stripe itself refuses refunds beyond the charge).
The payment's refunded amount and status are set by ``charge.refunded`` (the billing core's money events),
whatever started the refund; each decision is published as a money event (the student's e-mail).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from coursepay.billing import events as money
from coursepay.billing.payments import Payment, PaymentsRepository
from coursepay.clock import iso_now
from coursepay.errors import ConditionFailed, Conflict, InvalidRequest, NotFound
from coursepay.events.envelope import Envelope
from coursepay.identity import ADMINS, Principal
from coursepay.refunds.repository import OPEN_STATES, RefundRequest, RefundRequestsRepository
from coursepay.refunds.views import RefundQueueQuery
from coursepay.storage.audit import AuditEntry, AuditTrail
from coursepay.stripe_gateway.errors import stripe_errors

if TYPE_CHECKING:
    import stripe

REFUNDABLE = frozenset({"succeeded", "partially_refunded"})


def _view(request: RefundRequest) -> dict[str, object]:
    return request.model_dump(exclude={"updated_at"})


class RefundService:
    def __init__(self, payments: PaymentsRepository, requests: RefundRequestsRepository, audit: AuditTrail,
                 stripe_client: Callable[[], stripe.StripeClient],
                 publish: Callable[[Sequence[Envelope]], None]) -> None:
        self._payments = payments
        self._requests = requests
        self._audit = audit
        self._stripe = stripe_client
        self._publish = publish

    def _announce(self, event_type: str, request: RefundRequest, payment: Payment | None) -> None:
        """The decision as a money event (the student's e-mail); its id is the request's, so once."""
        data = money.RefundRequestDecided(
            payment_id=request.payment_id, user_id=request.user_id, kind=payment.kind if payment else "unknown",
            item_id=payment.item_id if payment else "", item_name=(payment.item_name or payment.item_id) if payment
            else "", amount=request.amount_paid, currency=request.currency, request_id=request.request_id,
            approved_amount=request.approved_amount, decision_reason=request.decision_reason)
        self._publish([money.billing_envelope(event_type, f"ev_{event_type.replace('.', '_')}_{request.request_id}",
                                              data, correlation_id=request.request_id)])

    def _owned_payment(self, principal: Principal, payment_id: str) -> Payment:
        payment = self._payments.get(payment_id)
        if payment is None or payment.user_id != principal.user_id:
            raise NotFound("no such payment", field="paymentId")
        return payment

    def request(self, principal: Principal, payment_id: str, reason: str) -> RefundRequest:
        payment = self._owned_payment(principal, payment_id)
        remaining = payment.amount - payment.refunded_amount
        if payment.status not in REFUNDABLE or remaining <= 0 or not payment.stripe_payment_intent_id:
            raise Conflict(f"a payment that is {payment.status} cannot be refunded", field="paymentId")
        request = RefundRequest(request_id=f"rr_{uuid.uuid4().hex}", payment_id=payment.payment_id,
                                user_id=principal.user_id, reason=reason, amount_paid=payment.amount,
                                currency=payment.currency, refundable_at_request=remaining)
        self._requests.create(request)
        self._audit.record(AuditEntry(entity=f"payment#{payment.payment_id}", action="refund_request.created",
                                      actor=f"user:{principal.user_id}", after=_view(request)))
        return request

    def of_user(self, principal: Principal) -> list[RefundRequest]:
        return self._requests.of_user(principal.user_id)

    def list(self, admin: Principal, query: RefundQueueQuery) -> tuple[list[RefundRequest], str | None]:
        """One page of the queue of ``query.status`` and the cursor of the next one (None on the last page)."""
        admin.require_any_group(ADMINS)
        return self._requests.page_by_status(query.status, limit=query.limit, cursor=query.cursor)

    def _open_request(self, admin: Principal, request_id: str) -> RefundRequest:
        admin.require_any_group(ADMINS)
        request = self._requests.get(request_id)
        if request is None:
            raise NotFound("no such refund request", field="requestId")
        if request.status not in OPEN_STATES:
            raise Conflict(f"this refund request is already {request.status}", field="requestId")
        return request

    def approve(self, admin: Principal, request_id: str, amount: int | None) -> RefundRequest:
        request = self._open_request(admin, request_id)
        payment = self._payments.get(request.payment_id)
        if payment is None or not payment.stripe_payment_intent_id:
            raise Conflict("the payment of this request cannot be refunded", field="requestId")
        remaining = payment.amount - payment.refunded_amount
        if request.status == "approving" and request.approved_amount is not None:
            # A previous approval did not finish: it must be completed with the same amount (same Stripe refund).
            if amount is not None and amount != request.approved_amount:
                raise Conflict(f"an approval of {request.approved_amount} is being completed; it cannot change",
                               field="amount")
            amount = request.approved_amount
        else:
            if remaining <= 0:
                # refunded in full meanwhile (another request, the dashboard): the request, not its amount, is stale
                raise Conflict(f"nothing is left to refund: the payment is {payment.status}", field="requestId")
            amount = remaining if amount is None else amount
            if amount <= 0 or amount > remaining:
                raise InvalidRequest(f"amount must be between 1 and {remaining} (what is left of the payment)",
                                     field="amount")
        try:
            claimed = self._requests.transition(request, "approving", expected=OPEN_STATES, approved_amount=amount,
                                                decided_by=f"user:{admin.user_id}")
        except ConditionFailed:
            raise Conflict("this refund request was decided meanwhile", field="requestId") from None
        try:
            with stripe_errors("refund the payment", refused=Conflict):
                refund = self._stripe().v1.refunds.create(
                    params={"payment_intent": payment.stripe_payment_intent_id, "amount": amount,
                            "reason": "requested_by_customer",
                            "metadata": {"kind": payment.kind, "refund_request_id": request.request_id,
                                         "payment_id": payment.payment_id}},
                    options={"idempotency_key": f"refund-request-{request.request_id}-a{claimed.attempt}"},
                )
        except Conflict:
            # Stripe refused (e.g. the charge was refunded meanwhile): nothing was refunded; back to the queue.
            self._requests.transition(claimed, "pending", expected=("approving",), approved_amount=None,
                                      decided_by=None, attempt=claimed.attempt + 1)
            raise
        approved = self._requests.transition(claimed, "approved", expected=("approving",), stripe_refund_id=refund.id,
                                             stripe_refund_status=refund.status, decided_at=iso_now())
        self._audit.record(AuditEntry(entity=f"payment#{payment.payment_id}", action="refund_request.approved",
                                      actor=f"user:{admin.user_id}", before=_view(request), after=_view(approved)))
        self._announce(money.REFUND_REQUEST_APPROVED, approved, payment)
        return approved

    def deny(self, admin: Principal, request_id: str, reason: str) -> RefundRequest:
        request = self._open_request(admin, request_id)
        if request.status != "pending":
            raise Conflict("an approval of this request is being completed", field="requestId")
        try:
            denied = self._requests.transition(request, "denied", expected=("pending",), decided_at=iso_now(),
                                               decided_by=f"user:{admin.user_id}", decision_reason=reason)
        except ConditionFailed:
            raise Conflict("this refund request was decided meanwhile", field="requestId") from None
        self._audit.record(AuditEntry(entity=f"payment#{request.payment_id}", action="refund_request.denied",
                                      actor=f"user:{admin.user_id}", before=_view(request), after=_view(denied)))
        self._announce(money.REFUND_REQUEST_DENIED, denied, self._payments.get(request.payment_id))
        return denied
