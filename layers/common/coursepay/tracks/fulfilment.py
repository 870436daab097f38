"""Fulfilment of track purchases: the fulfilment consumer's handlers for Stripe events with ``metadata.kind=track``.

* ``payment_intent.succeeded`` (PaymentIntents created by ``POST /tracks/{id}/payment-intents``),
  ``checkout.session.completed`` with ``payment_status=paid`` and ``checkout.session.async_payment_succeeded``
  complete the purchase: payment succeeded, account (payment-first sign-up), enrollment, first project unlocked,
  sign-up marked ready, ``track.enrollment.created`` published. The same purchase completes once whichever of
  these events arrive, in whatever order and however often: the steps run under the claim
  ``track-fulfilment#<payment id>`` and each step is itself idempotent (conditional writes, deterministic event id).
* ``payment_intent.payment_failed`` records Stripe's reason; ``payment_intent.canceled`` and
  ``checkout.session.expired`` cancel; ``checkout.session.async_payment_failed`` fails the payment and the sign-up.
* ``charge.refunded`` (any refund, the Stripe dashboard's included) records the refunded amount; a full refund
  withdraws the enrollment, a partial one keeps it.

PaymentIntents created by Checkout carry ``metadata.channel=checkout``/``signup``; their ``payment_intent.*``
events are left to the Checkout Session's events, so one purchase is never driven by two objects.
"""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING, Any

from coursepay.accounts.identity import CognitoIdentity
from coursepay.accounts.models import Profile, normalise_email
from coursepay.accounts.repository import AccountsRepository
from coursepay.api.principal import STUDENTS
from coursepay.billing.customers import CustomerDirectory
from coursepay.billing.enrollments import Enrollment, EnrollmentsRepository
from coursepay.billing.payments import Payment, PaymentsRepository
from coursepay.clock import iso_now
from coursepay.consumers.fulfilment import KindHandlers, stripe_object
from coursepay.consumers.runner import EnvelopeHandler
from coursepay.errors import Conflict, InvalidRequest, NotFound
from coursepay.events.envelope import Envelope
from coursepay.events.publisher import EventPublisher
from coursepay.observability import logger
from coursepay.storage.audit import AuditEntry, AuditTrail
from coursepay.storage.idempotency import IdempotencyStore
from coursepay.tracks.catalogue import Track, TracksRepository
from coursepay.tracks.credentials import temporary_password
from coursepay.tracks.events import enrolled_envelope, withdrawn_envelope
from coursepay.tracks.ledger import PaymentLedger
from coursepay.tracks.progress import ProgressRepository, initial_progress
from coursepay.tracks.signups import Signup, SignupsRepository

if TYPE_CHECKING:
    from coursepay.settings import FulfilmentSettings

KIND = "track"
PAID = frozenset({"paid", "no_payment_required"})


def _actor(envelope: Envelope) -> str:
    return f"stripe:{envelope.id}"


def _metadata(obj: dict[str, Any]) -> dict[str, str]:
    metadata = obj.get("metadata")
    return {str(k): str(v) for k, v in metadata.items()} if isinstance(metadata, dict) else {}


def _failure_reason(intent: dict[str, Any]) -> str:
    error = intent.get("last_payment_error") or {}
    code = error.get("decline_code") or error.get("code") or "payment_failed"
    message = error.get("message") or "the payment failed"
    return f"{code}: {message}"


def _id_of(value: Any) -> str | None:
    if isinstance(value, dict):
        return str(value.get("id")) if value.get("id") else None
    return str(value) if value else None


class TrackFulfilment:
    def __init__(self, *, tracks: TracksRepository, ledger: PaymentLedger, enrollments: EnrollmentsRepository,
                 progress: ProgressRepository, signups: SignupsRepository, identity: CognitoIdentity,
                 accounts: AccountsRepository, customers: CustomerDirectory, audit: AuditTrail,
                 publisher: EventPublisher, claims: IdempotencyStore) -> None:
        self._tracks = tracks
        self._ledger = ledger
        self._payments = ledger.payments
        self._enrollments = enrollments
        self._progress = progress
        self._signups = signups
        self._identity = identity
        self._accounts = accounts
        self._customers = customers
        self._audit = audit
        self._publisher = publisher
        self._claims = claims

    def handlers(self) -> dict[tuple[str, str], EnvelopeHandler]:
        return {
            ("payment_intent.succeeded", KIND): self.on_intent_succeeded,
            ("payment_intent.payment_failed", KIND): self.on_intent_failed,
            ("payment_intent.canceled", KIND): self.on_intent_canceled,
            ("checkout.session.completed", KIND): self.on_session_completed,
            ("checkout.session.async_payment_succeeded", KIND): self.on_session_paid,
            ("checkout.session.async_payment_failed", KIND): self.on_session_failed,
            ("checkout.session.expired", KIND): self.on_session_expired,
            ("charge.refunded", KIND): self.on_charge_refunded,
        }

    # ------------------------------------------------------------------------------------ PaymentIntents
    def _direct_intent(self, envelope: Envelope) -> tuple[dict[str, Any], Payment] | None:
        intent = stripe_object(envelope)
        if _metadata(intent).get("channel", "payment_intent") != "payment_intent":
            logger.info("left to the checkout session's events", event_type=envelope.type,
                        payment_intent=intent.get("id"))
            return None
        return intent, self._payment_for_intent(intent, envelope)

    def _payment_for_intent(self, intent: dict[str, Any], envelope: Envelope) -> Payment:
        """Our record of the PaymentIntent; rebuilt from its metadata if the API crashed before storing it."""
        payment = self._payments.get(intent["id"])
        if payment is not None:
            return payment
        metadata = _metadata(intent)
        if not metadata.get("user_id") or not metadata.get("track_id"):
            raise InvalidRequest(f"PaymentIntent {intent['id']} has no user_id/track_id metadata")
        payment = Payment(payment_id=intent["id"], user_id=metadata["user_id"], kind=KIND,
                          item_id=metadata["track_id"], amount=int(intent["amount"]), currency=str(intent["currency"]),
                          stripe_customer_id=_id_of(intent.get("customer")), stripe_payment_intent_id=intent["id"])
        self._adopt(payment, envelope)
        return payment

    def _adopt(self, payment: Payment, envelope: Envelope) -> None:
        if self._payments.create(payment):
            self._audit.record(AuditEntry(entity=f"payment#{payment.payment_id}", action="payment.recorded_from_event",
                                          actor=_actor(envelope), after=payment.model_dump(exclude_none=True)))

    def on_intent_succeeded(self, envelope: Envelope) -> None:
        found = self._direct_intent(envelope)
        if found is not None:
            intent, payment = found
            self._complete(payment.payment_id, envelope, payment_intent_id=intent["id"])

    def on_intent_failed(self, envelope: Envelope) -> None:
        found = self._direct_intent(envelope)
        if found is not None:
            intent, payment = found
            self._ledger.failed(payment.payment_id, _actor(envelope), _failure_reason(intent))

    def on_intent_canceled(self, envelope: Envelope) -> None:
        found = self._direct_intent(envelope)
        if found is not None:
            self._ledger.canceled(found[1].payment_id, _actor(envelope))

    # ------------------------------------------------------------------------------------ Checkout Sessions
    def _payment_for_session(self, session: dict[str, Any], envelope: Envelope) -> Payment:
        payment = self._payments.get(session["id"])
        metadata = _metadata(session)
        if payment is None:
            if not metadata.get("track_id"):
                raise InvalidRequest(f"Checkout Session {session['id']} has no track_id metadata")
            payment = Payment(payment_id=session["id"], user_id=metadata.get("user_id") or None, kind=KIND,
                              item_id=metadata["track_id"], amount=int(session.get("amount_total") or 0),
                              currency=str(session.get("currency") or "usd"),
                              stripe_customer_id=_id_of(session.get("customer")),
                              stripe_checkout_session_id=session["id"])
            self._adopt(payment, envelope)
        if metadata.get("channel") == "signup":
            self._signups.create(Signup(session_id=session["id"], track_id=payment.item_id))
        intent_id = _id_of(session.get("payment_intent"))
        if intent_id and payment.stripe_payment_intent_id != intent_id:
            payment = self._ledger.link_payment_intent(payment.payment_id, intent_id, _actor(envelope))
        return payment

    def on_session_completed(self, envelope: Envelope) -> None:
        session = stripe_object(envelope)
        payment = self._payment_for_session(session, envelope)
        if session.get("payment_status") in PAID:
            self._complete_session(session, payment, envelope)
        else:
            self._ledger.awaiting(payment.payment_id, _actor(envelope))

    def on_session_paid(self, envelope: Envelope) -> None:
        session = stripe_object(envelope)
        self._complete_session(session, self._payment_for_session(session, envelope), envelope)

    def on_session_failed(self, envelope: Envelope) -> None:
        session = stripe_object(envelope)
        payment = self._payment_for_session(session, envelope)
        self._ledger.failed(payment.payment_id, _actor(envelope), "async_payment_failed: the payment did not complete")
        self._signups.finish(session["id"], "failed")

    def on_session_expired(self, envelope: Envelope) -> None:
        session = stripe_object(envelope)
        payment = self._payment_for_session(session, envelope)
        self._ledger.canceled(payment.payment_id, _actor(envelope))
        self._signups.finish(session["id"], "expired")

    def _complete_session(self, session: dict[str, Any], payment: Payment, envelope: Envelope) -> None:
        details = session.get("customer_details") or {}
        self._complete(payment.payment_id, envelope, payment_intent_id=_id_of(session.get("payment_intent")),
                       buyer_email=details.get("email") or session.get("customer_email"),
                       buyer_name=details.get("name"), customer_id=_id_of(session.get("customer")),
                       signup_session=session["id"] if _metadata(session).get("channel") == "signup" else None)

    # ------------------------------------------------------------------------------------ completion
    def _complete(self, payment_id: str, envelope: Envelope, **details: Any) -> None:
        self._claims.run_once(f"track-fulfilment#{payment_id}", partial(self._fulfil, payment_id, envelope, **details),
                              details={"payment_id": payment_id, "event_id": envelope.id})

    def _fulfil(self, payment_id: str, envelope: Envelope, *, payment_intent_id: str | None,
                buyer_email: str | None = None, buyer_name: str | None = None, customer_id: str | None = None,
                signup_session: str | None = None) -> None:
        actor = _actor(envelope)
        payment = self._ledger.require(payment_id)
        track = self._tracks.get(payment.item_id)
        if track is None:
            raise NotFound(f"payment {payment_id} is for unknown track {payment.item_id}")
        user_id = payment.user_id
        email: str | None = None
        if user_id is None:
            user_id, email = self._account_for(buyer_email, buyer_name, actor)
        if customer_id:
            self._customers.link(user_id, customer_id)
        payment = self._ledger.succeeded(payment_id, actor, user_id=user_id, payment_intent_id=payment_intent_id)
        if payment.status not in ("succeeded", "partially_refunded"):
            logger.warning("payment not completable", payment_id=payment_id, status=payment.status)
            if signup_session:
                self._signups.finish(signup_session, "failed")
            return
        enrolled = self._enroll(user_id, track, payment, actor)
        if self._progress.create(initial_progress(user_id, track)):
            self._audit.record(AuditEntry(entity=f"enrollment#{user_id}#track#{track.track_id}",
                                          action="progress.first_project_unlocked", actor=actor,
                                          after={"project_id": track.first_project.project_id,
                                                 "steps": [s.step_id for s in track.first_project.steps]}))
        if signup_session:
            profile = self._accounts.get_profile(user_id)
            self._signups.finish(signup_session, "ready", user_id=user_id,
                                 email=email or (profile.email if profile else None))
        if enrolled:
            self._publisher.publish([enrolled_envelope(user_id, track, payment_id, correlation_id=envelope.id)])

    def _account_for(self, email: str | None, name: str | None, actor: str) -> tuple[str, str]:
        """The account of a payment-first buyer: the existing one for a known e-mail, else a new student whose
        Cognito-only temporary password nobody knows (the welcome e-mail sets and sends a fresh one)."""
        if not email:
            raise InvalidRequest("the checkout session has no customer e-mail")
        email = normalise_email(email)
        name = (name or email.split("@")[0]).strip()[:120]
        user_id = self._identity.find_user_id(email)
        if user_id is None:
            try:
                user_id = self._identity.create_user(email, name, temporary_password=temporary_password())
            except Conflict:
                user_id = self._identity.find_user_id(email)
            if user_id is None:
                raise NotFound(f"the account for {email} vanished while it was being created")
        self._identity.add_to_group(email, STUDENTS)
        if self._accounts.get_profile(user_id) is None:
            self._accounts.save_profile(Profile(user_id=user_id, email=email, name=name, created_at=iso_now()))
            self._audit.record(AuditEntry(entity=f"user#{user_id}", action="account.created_by_payment", actor=actor,
                                          after={"email": email, "group": STUDENTS, "origin": "track_signup"}))
        return user_id, email

    def _enroll(self, user_id: str, track: Track, payment: Payment, actor: str) -> bool:
        """Enroll unless this payment's enrollment exists; True when the enrollment is (now) this payment's."""
        existing = self._enrollments.get(user_id, KIND, track.track_id)
        if existing is not None and existing.source == payment.payment_id:
            return existing.status == "active"
        if existing is not None and existing.has_access():
            self._audit.record(AuditEntry(entity=f"enrollment#{user_id}#track#{track.track_id}",
                                          action="enrollment.duplicate_purchase", actor=actor,
                                          before=existing.model_dump(), after={"payment_id": payment.payment_id}))
            return False
        enrollment = Enrollment(user_id=user_id, kind=KIND, item_id=track.track_id, source=payment.payment_id)
        self._enrollments.save(enrollment)
        self._audit.record(AuditEntry(entity=f"enrollment#{user_id}#track#{track.track_id}",
                                      action="enrollment.created", actor=actor,
                                      before=existing.model_dump() if existing else None,
                                      after=enrollment.model_dump()))
        return True

    # ------------------------------------------------------------------------------------ refunds
    def on_charge_refunded(self, envelope: Envelope) -> None:
        charge = stripe_object(envelope)
        intent_id = _id_of(charge.get("payment_intent"))
        payment = (self._payments.by_payment_intent(intent_id) or self._payments.get(intent_id)) if intent_id else None
        if payment is None:
            raise NotFound(f"no payment for refunded charge {charge.get('id')} (payment intent {intent_id})")
        payment, _ = self._ledger.refunded(payment.payment_id, _actor(envelope),
                                           amount_refunded=int(charge.get("amount_refunded") or 0))
        if payment.status == "refunded" and payment.user_id:
            self._withdraw(payment, envelope)

    def _withdraw(self, payment: Payment, envelope: Envelope) -> None:
        """Full refund: the enrollment this payment granted is withdrawn (partial refunds keep it)."""
        assert payment.user_id is not None
        enrollment = self._enrollments.get(payment.user_id, KIND, payment.item_id)
        if enrollment is None or enrollment.source != payment.payment_id:
            return
        if enrollment.status == "active":
            withdrawn = enrollment.model_copy(update={"status": "withdrawn", "updated_at": iso_now()})
            self._enrollments.save(withdrawn)
            self._audit.record(AuditEntry(entity=f"enrollment#{payment.user_id}#track#{payment.item_id}",
                                          action="enrollment.withdrawn", actor=_actor(envelope),
                                          before=enrollment.model_dump(), after=withdrawn.model_dump()))
        elif enrollment.status != "withdrawn":
            return
        track = self._tracks.get(payment.item_id)
        if track is not None:
            self._publisher.publish([withdrawn_envelope(payment.user_id, track, payment.payment_id, "refunded",
                                                        correlation_id=envelope.id)])


def build(settings: FulfilmentSettings) -> TrackFulfilment:
    from coursepay.stripe_gateway.client import stripe_provider

    audit = AuditTrail(settings.audit_table)
    return TrackFulfilment(
        tracks=TracksRepository(settings.courses_table),
        ledger=PaymentLedger(PaymentsRepository(settings.payments_table), audit),
        enrollments=EnrollmentsRepository(settings.enrollments_table),
        progress=ProgressRepository(settings.enrollments_table),
        signups=SignupsRepository(settings.payments_table),
        identity=CognitoIdentity(settings.user_pool_id, ""),
        accounts=AccountsRepository(settings.accounts_table),
        customers=CustomerDirectory(settings.accounts_table, stripe_provider(settings)),
        audit=audit,
        publisher=EventPublisher(settings.event_bus_name),
        claims=IdempotencyStore(settings.idempotency_table),
    )


def handlers(settings: FulfilmentSettings) -> KindHandlers:
    """Registered in coursepay.consumers.fulfilment.handler_factories()."""
    return build(settings).handlers()
