"""The one fulfilment path for course purchases, shared by the webhook (through the fulfilment consumer) and
the success page (``POST /checkout/sessions/{id}/fulfil``).

- A completed, paid Checkout Session is fulfilled exactly once: the work runs under the claim
  ``course-checkout#<session id>`` in the idempotency table, and every write in it is a state write (the same
  session fulfilled again writes the same state).
- Subscription state is never taken from an event's (possibly stale, possibly out-of-order) copy: the
  subscription is read from Stripe and its current state written. A replayed or late event thus rewrites
  what is already stored and changes nothing more.
- Invoices become payment records (one per invoice; a succeeded payment is never turned back into a failed one).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from coursepay.billing.enrollments import Enrollment, EnrollmentsRepository, EnrollmentStatus
from coursepay.billing.payments import Payment, PaymentsRepository
from coursepay.clock import iso_now
from coursepay.courses.billing import StripeProvider
from coursepay.errors import Pending
from coursepay.events.envelope import Envelope
from coursepay.observability import logger
from coursepay.storage.audit import AuditEntry, AuditTrail
from coursepay.storage.idempotency import ClaimBusy, IdempotencyStore
from coursepay.stripe_gateway.errors import stripe_errors
from coursepay.subscriptions.models import Subscription, subscription_from_stripe
from coursepay.subscriptions.repository import SubscriptionsRepository

if TYPE_CHECKING:
    from coursepay.consumers.runner import EnvelopeHandler
    from coursepay.settings import FulfilmentSettings

KIND = "course"
PAID = frozenset({"paid", "no_payment_required"})
ENROLLMENT_STATUS: dict[str, EnrollmentStatus] = {"active": "active", "trialing": "active", "past_due": "past_due",
                                                  "unpaid": "past_due"}


def fulfilment_key(session_id: str) -> str:
    return f"course-checkout#{session_id}"


def as_dict(value: Any) -> dict[str, Any]:
    """A Stripe SDK object or a dict, as a plain dict."""
    if value is None:
        return {}
    to_dict = getattr(value, "to_dict", None)
    return dict(to_dict()) if callable(to_dict) else dict(value)


def _id(value: Any) -> str | None:
    if value is None or isinstance(value, str):
        return value
    return str(value.get("id")) if isinstance(value, dict) else str(value.id)


class CourseFulfilment:
    def __init__(self, *, payments: PaymentsRepository, enrollments: EnrollmentsRepository,
                 subscriptions: SubscriptionsRepository, audit: AuditTrail, claims: IdempotencyStore,
                 stripe_client: StripeProvider) -> None:
        self._payments = payments
        self._enrollments = enrollments
        self._subscriptions = subscriptions
        self._audit = audit
        self._claims = claims
        self._stripe = stripe_client

    # ------------------------------------------------------------ checkout sessions
    def fulfil_session(self, session: dict[str, Any], actor: str) -> bool:
        """Grant what a completed and paid session bought, once. False when it is not (yet) paid."""
        metadata = session.get("metadata") or {}
        if metadata.get("kind") != KIND:
            return False
        if session.get("status") != "complete" or session.get("payment_status") not in PAID:
            self._record_session_pending(session, actor)
            return False
        try:
            self._claims.run_once(fulfilment_key(session["id"]), lambda: self._fulfil(session, actor),
                                  details={"course_id": metadata.get("course_id"), "actor": actor})
        except ClaimBusy:
            raise Pending("this purchase is being fulfilled; ask again in a moment") from None
        return True

    def _fulfil(self, session: dict[str, Any], actor: str) -> None:
        metadata = session["metadata"]
        user_id, course_id = str(metadata["user_id"]), str(metadata["course_id"])
        if session.get("mode") == "subscription":
            subscription_id = _id(session.get("subscription"))
            if subscription_id is None:
                raise ValueError(f"subscription-mode session {session['id']} has no subscription")
            self.sync_subscription(subscription_id, actor, checkout_session_id=session["id"])
            return
        payment = self._payment_for_session(session)
        before = payment.model_dump()
        payment = payment.model_copy(update={
            "status": "succeeded", "stripe_payment_intent_id": _id(session.get("payment_intent")),
            "amount": int(session.get("amount_total") or payment.amount),
            "stripe_customer_id": _id(session.get("customer")) or payment.stripe_customer_id,
        })
        self._payments.save(payment)
        self._audit.record(AuditEntry(entity=f"payment#{payment.payment_id}", action="payment.succeeded",
                                      actor=actor, before=before, after=payment.model_dump()))
        self._grant(Enrollment(user_id=user_id, kind=KIND, item_id=course_id, source=session["id"]), actor)

    def session_failed(self, session: dict[str, Any], actor: str, status: str) -> None:
        """An asynchronous payment failed, or the session expired unpaid: the pending payment says so."""
        if (session.get("metadata") or {}).get("kind") != KIND or session.get("mode") != "payment":
            return
        payment = self._payment_for_session(session)
        if payment.status != "pending":
            return
        failed = payment.model_copy(update={"status": status, "failure_reason": status})
        self._payments.save(failed)
        self._audit.record(AuditEntry(entity=f"payment#{payment.payment_id}", action=f"payment.{status}",
                                      actor=actor, before=payment.model_dump(), after=failed.model_dump()))

    def _record_session_pending(self, session: dict[str, Any], actor: str) -> None:
        if session.get("mode") == "payment" and self._payments.get(session["id"]) is None:
            payment = self._payment_for_session(session)
            if self._payments.create(payment):
                self._audit.record(AuditEntry(entity=f"payment#{payment.payment_id}", action="payment.pending",
                                              actor=actor, after=payment.model_dump()))

    def _payment_for_session(self, session: dict[str, Any]) -> Payment:
        existing = self._payments.get(session["id"])
        if existing is not None:
            return existing
        metadata = session.get("metadata") or {}
        return Payment(payment_id=session["id"], user_id=metadata.get("user_id"), kind=KIND,
                       item_id=str(metadata.get("course_id")), pricing="one_time",
                       amount=int(session.get("amount_total") or 0), currency=str(session.get("currency") or ""),
                       stripe_checkout_session_id=session["id"], stripe_customer_id=_id(session.get("customer")))

    def _grant(self, enrollment: Enrollment, actor: str) -> None:
        existing = self._enrollments.get(enrollment.user_id, KIND, enrollment.item_id)
        if existing is not None and existing.source != enrollment.source and existing.has_access() and (
                existing.access_until is None):
            return  # lifetime access already held: a subscription event must not narrow it
        if existing is not None:
            enrollment = enrollment.model_copy(update={"enrolled_at": existing.enrolled_at})
            if existing.model_dump(exclude={"updated_at"}) == enrollment.model_dump(exclude={"updated_at"}):
                return
        self._enrollments.save(enrollment)
        self._audit.record(AuditEntry(
            entity=f"enrollment#{enrollment.user_id}#{KIND}#{enrollment.item_id}",
            action="enrollment.granted" if existing is None else "enrollment.changed", actor=actor,
            before=existing.model_dump() if existing else None, after=enrollment.model_dump()))

    # ------------------------------------------------------------ subscriptions
    def sync_subscription(self, subscription_id: str, actor: str, *,
                          checkout_session_id: str | None = None) -> Subscription | None:
        with stripe_errors("read the subscription"):
            obj = as_dict(self._stripe().v1.subscriptions.retrieve(subscription_id))
        return self.apply_subscription(obj, actor, checkout_session_id=checkout_session_id)

    def apply_subscription(self, obj: dict[str, Any], actor: str, *,
                           checkout_session_id: str | None = None) -> Subscription | None:
        """Store a subscription's current state and the access it grants (no-op when nothing changed)."""
        existing = self._subscriptions.get(str(obj.get("id")))
        subscription = subscription_from_stripe(
            obj, checkout_session_id=checkout_session_id or (existing.checkout_session_id if existing else None))
        if subscription is None:
            logger.info("not a course subscription", subscription_id=obj.get("id"))
            return None
        if existing is not None:
            subscription = subscription.model_copy(update={"created_at": existing.created_at})
        unchanged = existing is not None and existing.model_dump(exclude={"updated_at"}) == \
            subscription.model_dump(exclude={"updated_at"})
        if not unchanged:
            self._subscriptions.save(subscription)
            self._audit.record(AuditEntry(
                entity=f"subscription#{subscription.subscription_id}", actor=actor,
                action="subscription.created" if existing is None else f"subscription.{subscription.status}",
                before=existing.model_dump() if existing else None, after=subscription.model_dump()))
        access_until = subscription.access_until()
        if access_until is None:
            return subscription  # incomplete: nothing paid yet, no access
        status = ENROLLMENT_STATUS.get(subscription.status, "canceled")
        self._grant(Enrollment(user_id=subscription.user_id, kind=KIND, item_id=subscription.course_id,
                               source=subscription.subscription_id, status=status,
                               access_until=access_until), actor)
        return subscription

    # ------------------------------------------------------------ invoices
    def invoice_event(self, invoice: dict[str, Any], actor: str, *, paid: bool) -> None:
        subscription_id = _invoice_subscription(invoice)
        if subscription_id is None:
            return
        subscription = self.sync_subscription(subscription_id, actor)
        if subscription is None:
            return
        existing = self._payments.get(str(invoice["id"]))
        if existing is not None and existing.status == "succeeded":
            return  # a late or replayed failure never undoes a payment
        payment = Payment(
            payment_id=str(invoice["id"]), user_id=subscription.user_id, kind=KIND, item_id=subscription.course_id,
            pricing="monthly",
            amount=int((invoice.get("amount_paid") if paid else invoice.get("amount_due")) or 0),
            currency=str(invoice.get("currency") or subscription.currency or ""),
            status="succeeded" if paid else "failed", stripe_customer_id=_id(invoice.get("customer")),
            stripe_subscription_id=subscription_id, stripe_invoice_id=str(invoice["id"]),
            failure_reason=None if paid else "renewal payment failed",
            created_at=existing.created_at if existing else iso_now(),
        )
        if existing is not None and existing.model_dump(exclude={"updated_at"}) == payment.model_dump(
                exclude={"updated_at"}):
            return
        self._payments.save(payment)
        self._audit.record(AuditEntry(entity=f"payment#{payment.payment_id}",
                                      action=f"payment.{payment.status}", actor=actor,
                                      before=existing.model_dump() if existing else None, after=payment.model_dump()))


def _invoice_subscription(invoice: dict[str, Any]) -> str | None:
    parent = invoice.get("parent") or {}
    candidate = (parent.get("subscription_details") or {}).get("subscription") or invoice.get("subscription")
    return _id(candidate)


# ---------------------------------------------------------------- the fulfilment consumer's handlers
def handlers(settings: FulfilmentSettings) -> dict[tuple[str, str], EnvelopeHandler]:
    """``{(Stripe event type, "course"): handler}`` for ``coursepay.consumers.fulfilment``."""
    from coursepay.stripe_gateway.client import stripe_provider

    fulfilment = CourseFulfilment(
        payments=PaymentsRepository(settings.payments_table),
        enrollments=EnrollmentsRepository(settings.enrollments_table),
        subscriptions=SubscriptionsRepository(settings.payments_table),
        audit=AuditTrail(settings.audit_table),
        claims=IdempotencyStore(settings.idempotency_table),
        stripe_client=stripe_provider(settings),
    )
    return course_handlers(fulfilment)


def course_handlers(fulfilment: CourseFulfilment) -> dict[tuple[str, str], EnvelopeHandler]:
    def on(action: Callable[[dict[str, Any], str], None]) -> EnvelopeHandler:
        def handle(envelope: Envelope) -> None:
            obj = (envelope.data.get("data") or {}).get("object") or {}
            action(obj, f"stripe:{envelope.id}")
        return handle

    def session_done(session: dict[str, Any], actor: str) -> None:
        fulfilment.fulfil_session(session, actor)

    def subscription_changed(obj: dict[str, Any], actor: str) -> None:
        fulfilment.sync_subscription(str(obj["id"]), actor)

    return {
        ("checkout.session.completed", KIND): on(session_done),
        ("checkout.session.async_payment_succeeded", KIND): on(session_done),
        ("checkout.session.async_payment_failed", KIND): on(
            lambda session, actor: fulfilment.session_failed(session, actor, "failed")),
        ("checkout.session.expired", KIND): on(
            lambda session, actor: fulfilment.session_failed(session, actor, "canceled")),
        ("invoice.paid", KIND): on(lambda invoice, actor: fulfilment.invoice_event(invoice, actor, paid=True)),
        ("invoice.payment_failed", KIND): on(
            lambda invoice, actor: fulfilment.invoice_event(invoice, actor, paid=False)),
        ("customer.subscription.created", KIND): on(subscription_changed),
        ("customer.subscription.updated", KIND): on(subscription_changed),
        ("customer.subscription.deleted", KIND): on(subscription_changed),
    }
