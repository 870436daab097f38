"""The course kind's fulfilment, on the billing core, shared by the webhook (through the fulfilment consumer)
and the success page (``POST /checkout/sessions/{id}/fulfil``).

- A completed, paid Checkout Session is fulfilled exactly once: the work runs under the claim
  ``course-checkout#<session id>``; payments move through the core's forward-only ledger.
- A session that completes for a course the buyer already has access to is refunded (and a duplicate
  subscription canceled) by the core's ``duplicates``; the first access is kept.
- Subscription state is never taken from an event's (possibly stale, possibly out-of-order) copy: the
  subscription is read from Stripe and its current state written.
- Invoices become payment records (one per invoice), linked to the PaymentIntent that paid them, so their
  refunds and disputes find them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from coursepay.billing.core import BillingCore
from coursepay.billing.enrollments import Enrollment, EnrollmentStatus
from coursepay.billing.payments import Payment, Purchase
from coursepay.courses.repository import CoursesRepository
from coursepay.errors import Pending
from coursepay.events.envelope import Envelope
from coursepay.events.handlers import EnvelopeHandler, KindHandlers, stripe_object
from coursepay.observability import logger
from coursepay.storage.audit import AuditEntry
from coursepay.storage.batches import BatchRead, write_together
from coursepay.storage.idempotency import ClaimBusy, IdempotencyStore
from coursepay.stripe_gateway.errors import stripe_errors
from coursepay.subscriptions.models import Subscription, subscription_from_stripe
from coursepay.subscriptions.repository import SubscriptionsRepository

if TYPE_CHECKING:
    import stripe

    from coursepay.settings import FulfilmentSettings
    from coursepay.subscriptions.access_policy import CourseAccessPolicy

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


def _owner_other_than(existing: Enrollment | None, *, source: str) -> str | None:
    """What already grants the buyer the course (their enrollment ``existing``), other than ``source``."""
    if existing is not None and existing.source != source and existing.has_access():
        return existing.source
    return None


class CourseFulfilment:
    def __init__(self, *, core: BillingCore, courses: CoursesRepository, subscriptions: SubscriptionsRepository,
                 claims: IdempotencyStore) -> None:
        self._core = core
        self._ledger = core.ledger
        self._payments = core.ledger.payments
        self._enrollments = core.enrollments
        self._audit = core.audit
        self._courses = courses
        self._subscriptions = subscriptions
        self._claims = claims
        self._stripe = core.stripe

    def stripe(self) -> stripe.StripeClient:
        return self._stripe()

    # ------------------------------------------------------------ checkout sessions
    def fulfil_session(self, session: dict[str, Any], actor: str, correlation_id: str | None = None) -> bool:
        """Grant what a completed and paid session bought, once. False when it is not (yet) paid."""
        metadata = session.get("metadata") or {}
        if metadata.get("kind") != KIND:
            return False
        if session.get("status") != "complete" or session.get("payment_status") not in PAID:
            if session.get("mode") == "payment":
                payment = self._payment_for_session(session, actor)
                if session.get("status") == "complete":
                    self._ledger.awaiting(payment.payment_id, actor)
            return False
        try:
            self._claims.run_once(fulfilment_key(session["id"]),
                                  lambda: self._fulfil(session, actor, correlation_id),
                                  details={"course_id": metadata.get("course_id"), "actor": actor})
        except ClaimBusy:
            raise Pending("this purchase is being fulfilled; ask again in a moment") from None
        return True

    def _fulfil(self, session: dict[str, Any], actor: str, correlation_id: str | None) -> None:
        metadata = session["metadata"]
        user_id, course_id = str(metadata["user_id"]), str(metadata["course_id"])
        if session.get("mode") == "subscription":
            subscription_id = _id(session.get("subscription"))
            if subscription_id is None:
                raise ValueError(f"subscription-mode session {session['id']} has no subscription")
            self.sync_subscription(subscription_id, actor, checkout_session_id=session["id"])
            return
        batch = BatchRead()  # what the decision needs, in one read: the payment and the buyer's enrollment
        recorded = self._payments.want(batch, session["id"])
        enrollment = self._enrollments.want(batch, user_id, KIND, course_id)
        batch.run()
        payment = recorded.value or self._payment_for_session(session, actor)
        payment = self._ledger.succeeded(payment.payment_id, actor, user_id=user_id,
                                         payment_intent_id=_id(session.get("payment_intent")),
                                         correlation_id=correlation_id, known=payment)
        existing = enrollment.value
        owner = _owner_other_than(existing, source=session["id"])
        if owner is not None:
            self._core.duplicates.refund(payment, owned_through=owner, actor=actor, correlation_id=correlation_id)
        else:
            self._grant(Enrollment(user_id=user_id, kind=KIND, item_id=course_id, source=session["id"]), actor,
                        existing=existing)
        self._ledger.settled(payment.payment_id, known=payment)

    def session_failed(self, session: dict[str, Any], actor: str, status: str) -> None:
        """An asynchronous payment failed, or the session expired unpaid: the pending payment says so."""
        if (session.get("metadata") or {}).get("kind") != KIND or session.get("mode") != "payment":
            return
        payment = self._payment_for_session(session, actor)
        if status == "canceled":
            self._ledger.canceled(payment.payment_id, actor)
        else:
            self._ledger.failed(payment.payment_id, actor, "async_payment_failed: the bank debit did not complete",
                                correlation_id=actor.removeprefix("stripe:"))

    def _payment_for_session(self, session: dict[str, Any], actor: str) -> Payment:
        existing = self._payments.get(session["id"])
        if existing is not None:
            return existing
        metadata = session.get("metadata") or {}
        course_id = str(metadata.get("course_id"))
        payment = Payment(payment_id=session["id"], user_id=metadata.get("user_id"), kind=KIND, item_id=course_id,
                          item_name=self._course_title(course_id), pricing="one_time",
                          amount=int(session.get("amount_total") or 0), currency=str(session.get("currency") or ""),
                          stripe_checkout_session_id=session["id"], stripe_customer_id=_id(session.get("customer")))
        self._ledger.record(payment, actor, action="payment.recorded_from_event")
        return self._payments.get(session["id"]) or payment

    def _course_title(self, course_id: str) -> str | None:
        course = self._courses.get(course_id)
        return course.title if course else None

    def _grant(self, enrollment: Enrollment, actor: str, *, existing: Enrollment | None) -> None:
        """``existing``: the buyer's enrollment in the course as read just before (it is written over)."""
        if existing is not None and existing.status in ("suspended", "withdrawn") and \
                existing.source == enrollment.source:
            return  # a dispute or refund decided about this very source: a replayed event must not undo it
        if existing is not None:
            enrollment = enrollment.model_copy(update={"enrolled_at": existing.enrolled_at})
            if existing.model_dump(exclude={"updated_at"}) == enrollment.model_dump(exclude={"updated_at"}):
                return
        # the enrollment and its audit entry land together (one transaction), or neither does
        write_together([self._enrollments.save_put(enrollment), self._audit.put_for(AuditEntry(
            entity=f"enrollment#{enrollment.user_id}#{KIND}#{enrollment.item_id}",
            action="enrollment.granted" if existing is None else "enrollment.changed", actor=actor,
            before=existing.model_dump() if existing else None, after=enrollment.model_dump()))])

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
        enrollment = self._enrollments.get(subscription.user_id, KIND, subscription.course_id)
        owner = _owner_other_than(enrollment, source=subscription.subscription_id)
        if owner is not None:
            if subscription.live:  # bought beside an access the buyer has: it must never renew
                self._core.duplicates.cancel_subscription(subscription.subscription_id)
            return subscription
        status = ENROLLMENT_STATUS.get(subscription.status, "canceled")
        self._grant(Enrollment(user_id=subscription.user_id, kind=KIND, item_id=subscription.course_id,
                               source=subscription.subscription_id, status=status,
                               access_until=access_until), actor, existing=enrollment)
        return subscription

    # ------------------------------------------------------------ invoices
    def invoice_event(self, invoice: dict[str, Any], envelope: Envelope, *, paid: bool) -> None:
        actor = f"stripe:{envelope.id}"
        subscription_id = _invoice_subscription(invoice)
        if subscription_id is None:
            return
        subscription = self.sync_subscription(subscription_id, actor)
        if subscription is None:
            return
        payment = self._invoice_payment(invoice, subscription, actor)
        intent_id = self._paying_intent(str(invoice["id"]))
        if intent_id and payment.stripe_payment_intent_id is None:
            payment = self._ledger.link_payment_intent(payment.payment_id, intent_id, actor)
        if not paid:
            self._ledger.failed(payment.payment_id, actor, self._failure_of(intent_id), correlation_id=envelope.id)
            return
        payment = self._ledger.succeeded(payment.payment_id, actor, user_id=subscription.user_id,
                                         payment_intent_id=intent_id, correlation_id=envelope.id)
        owner = _owner_other_than(self._enrollments.get(subscription.user_id, KIND, subscription.course_id),
                                  source=subscription.subscription_id)
        if owner is not None and payment.status == "succeeded":
            self._core.duplicates.refund(payment, owned_through=owner, actor=actor, correlation_id=envelope.id)
        self._ledger.settled(payment.payment_id, known=payment)

    def _invoice_payment(self, invoice: dict[str, Any], subscription: Subscription, actor: str) -> Payment:
        existing = self._payments.get(str(invoice["id"]))
        if existing is not None:
            return existing
        purchase: Purchase = "subscription_start" if invoice.get("billing_reason") == "subscription_create" \
            else "renewal"
        payment = Payment(
            payment_id=str(invoice["id"]), user_id=subscription.user_id, kind=KIND, item_id=subscription.course_id,
            item_name=self._course_title(subscription.course_id), pricing="monthly", purchase=purchase,
            amount=int(invoice.get("amount_due") or invoice.get("amount_paid") or 0),
            currency=str(invoice.get("currency") or subscription.currency or ""),
            stripe_customer_id=_id(invoice.get("customer")), stripe_subscription_id=subscription.subscription_id,
            stripe_invoice_id=str(invoice["id"]))
        self._ledger.record(payment, actor, action="payment.recorded_from_event")
        return self._payments.get(payment.payment_id) or payment

    def _paying_intent(self, invoice_id: str) -> str | None:
        """The PaymentIntent that paid (or tried to pay) an invoice: refunds and disputes arrive with it."""
        with stripe_errors("read the invoice's payments"):
            payments = self._stripe().v1.invoice_payments.list(params={"invoice": invoice_id, "limit": 1})
        for record in payments.data:
            intent = (as_dict(record.payment) or {}).get("payment_intent")
            if intent:
                return _id(intent)
        return None

    def _failure_of(self, intent_id: str | None) -> str:
        if intent_id:
            with stripe_errors("read the failed payment"):
                intent = as_dict(self._stripe().v1.payment_intents.retrieve(intent_id))
            error = intent.get("last_payment_error") or {}
            if error:
                code = error.get("decline_code") or error.get("code") or "payment_failed"
                return f"{code}: {error.get('message') or 'the renewal payment failed'}"
        return "renewal_failed: the renewal payment failed"


def _invoice_subscription(invoice: dict[str, Any]) -> str | None:
    parent = invoice.get("parent") or {}
    candidate = (parent.get("subscription_details") or {}).get("subscription") or invoice.get("subscription")
    return _id(candidate)


# ---------------------------------------------------------------- wiring
def build(settings: FulfilmentSettings, core: BillingCore) -> CourseFulfilment:
    return CourseFulfilment(core=core, courses=CoursesRepository(settings.courses_table),
                            subscriptions=SubscriptionsRepository(settings.payments_table),
                            claims=IdempotencyStore(settings.idempotency_table))


def access_policy(settings: FulfilmentSettings, core: BillingCore) -> CourseAccessPolicy:
    from coursepay.subscriptions.access_policy import CourseAccessPolicy

    return CourseAccessPolicy(core.standard_policy(), build(settings, core))


def handlers(settings: FulfilmentSettings, core: BillingCore) -> KindHandlers:
    """``{(Stripe event type, "course"): handler}`` for ``coursepay.consumers.fulfilment``."""
    return course_handlers(build(settings, core), core)


def course_handlers(fulfilment: CourseFulfilment, core: BillingCore) -> dict[tuple[str, str], EnvelopeHandler]:
    def on(action: Callable[[dict[str, Any], Envelope], None]) -> EnvelopeHandler:
        def handle(envelope: Envelope) -> None:
            action(stripe_object(envelope), envelope)
        return handle

    def session_done(session: dict[str, Any], envelope: Envelope) -> None:
        fulfilment.fulfil_session(session, f"stripe:{envelope.id}", correlation_id=envelope.id)

    def subscription_changed(obj: dict[str, Any], envelope: Envelope) -> None:
        fulfilment.sync_subscription(str(obj["id"]), f"stripe:{envelope.id}")

    return {
        ("checkout.session.completed", KIND): on(session_done),
        ("checkout.session.async_payment_succeeded", KIND): on(session_done),
        ("checkout.session.async_payment_failed", KIND): on(
            lambda session, envelope: fulfilment.session_failed(session, f"stripe:{envelope.id}", "failed")),
        ("checkout.session.expired", KIND): on(
            lambda session, envelope: fulfilment.session_failed(session, f"stripe:{envelope.id}", "canceled")),
        ("payment_intent.payment_failed", KIND): core.attempts.on_intent_failed,
        ("invoice.paid", KIND): on(lambda invoice, envelope: fulfilment.invoice_event(invoice, envelope, paid=True)),
        ("invoice.payment_failed", KIND): on(
            lambda invoice, envelope: fulfilment.invoice_event(invoice, envelope, paid=False)),
        ("customer.subscription.created", KIND): on(subscription_changed),
        ("customer.subscription.updated", KIND): on(subscription_changed),
        ("customer.subscription.deleted", KIND): on(subscription_changed),
    }
