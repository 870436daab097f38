"""Fulfilment of track purchases: the fulfilment consumer's handlers for Stripe events with ``metadata.kind=track``.

* ``payment_intent.succeeded`` (PaymentIntents created by ``POST /tracks/{id}/payment-intents``),
  ``checkout.session.completed`` with ``payment_status=paid`` and ``checkout.session.async_payment_succeeded``
  complete the purchase: payment succeeded, account (payment-first sign-up), enrollment, first project unlocked,
  sign-up marked ready, ``track.enrollment.created`` published. The same purchase completes once whichever of
  these events arrive, in whatever order and however often: the steps run under the claim
  ``track-fulfilment#<payment id>`` and each step is itself idempotent (conditional writes, deterministic event id).
* ``payment_intent.payment_failed`` records Stripe's reason; ``payment_intent.canceled`` and
  ``checkout.session.expired`` cancel; ``checkout.session.async_payment_failed`` fails the payment and the sign-up.
* refunds and disputes are the billing core's (``coursepay.billing.money_events``), with the track's access
  policy (``coursepay.tracks.access_policy``); payment-first accounts are made by ``coursepay.tracks.signup_accounts``.

PaymentIntents created by Checkout carry ``metadata.channel=checkout``/``signup``; their ``payment_intent.*``
events are left to the Checkout Session's events, so one purchase is never driven by two objects, except a
declined attempt, which the core's ``attempts`` records on the session's payment. A purchase of a track the
buyer is enrolled in already is refunded by the core's ``duplicates``.
"""

from __future__ import annotations

from datetime import UTC, datetime
from functools import partial
from typing import TYPE_CHECKING, Any

from coursepay.accounts.consent import Consent, ConsentLedger
from coursepay.accounts.identity import CognitoIdentity
from coursepay.accounts.repository import AccountsRepository
from coursepay.billing.attempts import failure_reason
from coursepay.billing.core import BillingCore
from coursepay.billing.customers import CustomerDirectory
from coursepay.billing.enrollments import Enrollment
from coursepay.billing.payments import Payment
from coursepay.clock import iso_time
from coursepay.errors import InvalidRequest, NotFound
from coursepay.events.envelope import Envelope
from coursepay.events.handlers import EnvelopeHandler, KindHandlers, stripe_object
from coursepay.observability import logger
from coursepay.storage.audit import AuditEntry
from coursepay.storage.idempotency import IdempotencyStore
from coursepay.tracks.catalogue import Track, TracksRepository
from coursepay.tracks.events import enrolled_envelope
from coursepay.tracks.progress import ProgressRepository, initial_progress
from coursepay.tracks.signup_accounts import PaymentFirstAccounts
from coursepay.tracks.signups import Signup, SignupsRepository

if TYPE_CHECKING:
    from coursepay.settings import FulfilmentSettings
    from coursepay.tracks.access_policy import TrackAccessPolicy

KIND = "track"
PAID = frozenset({"paid", "no_payment_required"})


def _actor(envelope: Envelope) -> str:
    return f"stripe:{envelope.id}"


def _metadata(obj: dict[str, Any]) -> dict[str, str]:
    metadata = obj.get("metadata")
    return {str(k): str(v) for k, v in metadata.items()} if isinstance(metadata, dict) else {}


def _checkout_consent(session: dict[str, Any]) -> Consent | None:
    """The terms a payment-first buyer accepted when they started this checkout (``POST .../signup-checkout``)."""
    version = _metadata(session).get("terms_version")
    if not version or _metadata(session).get("channel") != "signup":
        return None
    accepted_at = iso_time(datetime.fromtimestamp(int(session.get("created") or 0), UTC))
    return Consent(version=version, accepted_at=accepted_at, channel="signup_checkout")


def _id_of(value: Any) -> str | None:
    if isinstance(value, dict):
        return str(value.get("id")) if value.get("id") else None
    return str(value) if value else None


class TrackFulfilment:
    def __init__(self, *, core: BillingCore, tracks: TracksRepository, progress: ProgressRepository,
                 signups: SignupsRepository, buyers: PaymentFirstAccounts,
                 customers: CustomerDirectory, claims: IdempotencyStore) -> None:
        self._core = core
        self._tracks = tracks
        self._ledger = core.ledger
        self._payments = core.ledger.payments
        self._enrollments = core.enrollments
        self._progress = progress
        self._signups = signups
        self._buyers = buyers
        self._customers = customers
        self._audit = core.audit
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
        track = self._tracks.get(payment.item_id)
        payment = payment.model_copy(update={"item_name": f"{track.name} track" if track else None})
        self._ledger.record(payment, _actor(envelope), action="payment.recorded_from_event")

    def on_intent_succeeded(self, envelope: Envelope) -> None:
        found = self._direct_intent(envelope)
        if found is not None:
            intent, payment = found
            self._complete(payment.payment_id, envelope, payment_intent_id=intent["id"])

    def on_intent_failed(self, envelope: Envelope) -> None:
        intent = stripe_object(envelope)
        if _metadata(intent).get("channel", "payment_intent") != "payment_intent":
            self._core.attempts.on_intent_failed(envelope)  # a declined try on the hosted checkout page
            return
        payment = self._payment_for_intent(intent, envelope)
        self._ledger.failed(payment.payment_id, _actor(envelope), failure_reason(intent), correlation_id=envelope.id)

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
        self._ledger.failed(payment.payment_id, _actor(envelope), "async_payment_failed: the payment did not complete",
                            correlation_id=envelope.id)
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
                       signup_session=session["id"] if _metadata(session).get("channel") == "signup" else None,
                       consent=_checkout_consent(session))

    # ------------------------------------------------------------------------------------ completion
    def _complete(self, payment_id: str, envelope: Envelope, **details: Any) -> None:
        self._claims.run_once(f"track-fulfilment#{payment_id}", partial(self._fulfil, payment_id, envelope, **details),
                              details={"payment_id": payment_id, "event_id": envelope.id})

    def _fulfil(self, payment_id: str, envelope: Envelope, *, payment_intent_id: str | None,
                buyer_email: str | None = None, buyer_name: str | None = None, customer_id: str | None = None,
                signup_session: str | None = None, consent: Consent | None = None) -> None:
        actor = _actor(envelope)
        payment = self._ledger.require(payment_id)
        track = self._tracks.get(payment.item_id)
        if track is None:
            raise NotFound(f"payment {payment_id} is for unknown track {payment.item_id}")
        user_id = payment.user_id
        if user_id is None:
            user_id, _ = self._buyers.account_for(buyer_email, buyer_name, actor, consent)
        if customer_id:
            self._customers.link(user_id, customer_id)
        payment = self._ledger.succeeded(payment_id, actor, user_id=user_id, payment_intent_id=payment_intent_id,
                                         correlation_id=envelope.id)
        if payment.status not in ("succeeded", "partially_refunded"):
            logger.warning("payment not completable", payment_id=payment_id, status=payment.status)
            if signup_session:
                self._signups.finish(signup_session, "failed")
            return
        enrolled = self._enroll(user_id, track, payment, actor, envelope)
        if self._progress.create(initial_progress(user_id, track)):
            self._audit.record(AuditEntry(entity=f"enrollment#{user_id}#track#{track.track_id}",
                                          action="progress.first_project_unlocked", actor=actor,
                                          after={"project_id": track.first_project.project_id,
                                                 "steps": [s.step_id for s in track.first_project.steps]}))
        if signup_session:
            self._signups.finish(signup_session, "ready", user_id=user_id)
        if enrolled:
            self._core.publish([enrolled_envelope(user_id, track, payment_id, correlation_id=envelope.id)])
        self._ledger.settled(payment_id)

    def _enroll(self, user_id: str, track: Track, payment: Payment, actor: str, envelope: Envelope) -> bool:
        """Enroll unless this payment's enrollment exists; True when the enrollment is (now) this payment's.
        A payment for a track the buyer is enrolled in through another payment is refunded as a duplicate."""
        existing = self._enrollments.get(user_id, KIND, track.track_id)
        if existing is not None and existing.source == payment.payment_id:
            return existing.status == "active"
        if existing is not None and existing.has_access():
            self._core.duplicates.refund(payment, owned_through=existing.source, actor=actor,
                                         correlation_id=envelope.id)
            return False
        enrollment = Enrollment(user_id=user_id, kind=KIND, item_id=track.track_id, source=payment.payment_id)
        self._enrollments.save(enrollment)
        self._audit.record(AuditEntry(entity=f"enrollment#{user_id}#track#{track.track_id}",
                                      action="enrollment.created", actor=actor,
                                      before=existing.model_dump() if existing else None,
                                      after=enrollment.model_dump()))
        return True

def build(settings: FulfilmentSettings, core: BillingCore) -> TrackFulfilment:
    accounts = AccountsRepository(settings.accounts_table)
    return TrackFulfilment(
        core=core,
        tracks=TracksRepository(settings.courses_table),
        progress=ProgressRepository(settings.enrollments_table),
        signups=SignupsRepository(settings.payments_table),
        buyers=PaymentFirstAccounts(CognitoIdentity(settings.user_pool_id, ""), accounts, core.audit,
                                    ConsentLedger(settings.accounts_table, core.audit)),
        customers=CustomerDirectory(settings.accounts_table, core.stripe),
        claims=IdempotencyStore(settings.idempotency_table),
    )


def access_policy(settings: FulfilmentSettings, core: BillingCore) -> TrackAccessPolicy:
    from coursepay.tracks.access_policy import TrackAccessPolicy

    return TrackAccessPolicy(core.standard_policy(), TracksRepository(settings.courses_table), core.publish)


def handlers(settings: FulfilmentSettings, core: BillingCore) -> KindHandlers:
    """Registered in coursepay.consumers.fulfilment.handler_factories()."""
    return build(settings, core).handlers()
