"""Buying a track: PaymentIntent or Checkout Session when signed in, Checkout Session for payment-first sign-up,
and the sign-up status the success page polls.

The amount always comes from the catalogue; the request models refuse any amount or currency a client sends.
Checkout Sessions go through the billing core's one checkout path (``coursepay.billing.checkout``), a
PaymentIntent (no hosted page) through its one PaymentIntent path (``coursepay.billing.intents``): one intent
per (user, track) whatever the number of clicks.
"""

from __future__ import annotations

import hashlib
import re
import time
import uuid
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from coursepay.accounts.consent import require_current
from coursepay.accounts.repository import AccountsRepository
from coursepay.billing.checkout import Buyer, Offer, OpenedSession
from coursepay.billing.core import BillingCore
from coursepay.billing.customers import CustomerDirectory
from coursepay.billing.intents import IntentBuyer, IntentOffer
from coursepay.errors import Conflict, InvalidRequest, NotFound, PaymentDeclined
from coursepay.identity import ADMINS, STUDENTS, Principal
from coursepay.observability import logger
from coursepay.tracks.catalogue import Track, TracksRepository
from coursepay.tracks.models import (
    CheckoutRequest,
    CheckoutView,
    PaymentIntentView,
    SignupCheckoutRequest,
    SignupVerification,
)
from coursepay.tracks.signups import Signup, SignupsRepository

if TYPE_CHECKING:
    from coursepay.reconciliation.sessions import SessionRecovery

RECOVERY_AFTER_SECONDS = 10
CLIENT_KEY = re.compile(r"^[A-Za-z0-9_.:-]{8,100}$")
SESSION_ID = re.compile(r"^cs_[A-Za-z0-9_]{1,200}$")


class TrackPurchases:
    def __init__(self, *, core: BillingCore, tracks: TracksRepository, customers: CustomerDirectory,
                 accounts: AccountsRepository, signups: SignupsRepository,
                 publishable_key: Callable[[], str], terms_version: str,
                 recover_session: Callable[[str], SessionRecovery] | None = None) -> None:
        self._core = core
        self._terms_version = terms_version
        self._recover = recover_session
        self._tracks = tracks
        self._enrollments = core.enrollments
        self._customers = customers
        self._accounts = accounts
        self._signups = signups
        self._publishable_key = publishable_key
        self._checkout = core.checkout

    # ------------------------------------------------------------------------------------------ helpers
    def track(self, track_id: str) -> Track:
        track = self._tracks.get(track_id)
        if track is None or not track.active:
            raise NotFound(f"no track {track_id}", field="trackId")
        return track

    def _buyable_by(self, principal: Principal, track_id: str) -> Track:
        principal.require_any_group(STUDENTS, ADMINS)
        track = self.track(track_id)
        enrollment = self._enrollments.get(principal.user_id, "track", track.track_id)
        if enrollment is not None and enrollment.has_access():
            raise Conflict(f"you are already enrolled in {track.name}", field="trackId")
        return track

    def _customer(self, principal: Principal) -> str:
        profile = self._accounts.get_profile(principal.user_id)
        email = principal.email or (profile.email if profile else None)
        if not email:
            raise NotFound("no profile for this user; sign in again")
        return self._customers.ensure_customer(principal.user_id, email, profile.name if profile else None)

    # ------------------------------------------------------------------------------ signed in: PaymentIntent
    def create_payment_intent(self, principal: Principal, track_id: str) -> PaymentIntentView:
        track = self._buyable_by(principal, track_id)
        offer = IntentOffer(kind="track", item_id=track.track_id, name=f"{track.name} track", amount=track.price,
                            currency=track.currency, metadata={"track_id": track.track_id, "anonymous": "false"},
                            params={"automatic_payment_methods": {"enabled": True}})
        opened = self._core.intents.open(IntentBuyer(user_id=principal.user_id, customer_id=self._customer(principal)),
                                         offer)
        if opened.paid:
            raise Conflict("this track is paid already; the enrollment is on its way", field="trackId")
        return self._intent_view(opened.intent)

    def _intent_view(self, intent: Any) -> PaymentIntentView:
        return PaymentIntentView(client_secret=intent.client_secret, payment_intent_id=intent.id, amount=intent.amount,
                                 currency=intent.currency, status=intent.status,
                                 publishable_key=self._publishable_key())

    # ------------------------------------------------------------------------------ Checkout Sessions
    def _offer(self, track: Track) -> Offer:
        return Offer(kind="track", item_id=track.track_id, name=f"{track.name} track", pricing="one_time",
                     amount=track.price, currency=track.currency, metadata={"track_id": track.track_id},
                     line_item={"price_data": {
                         "currency": track.currency, "unit_amount": track.price,
                         "product_data": {"name": f"{track.name} track",
                                          "metadata": {"kind": "track", "track_id": track.track_id}}}})

    def create_checkout(self, principal: Principal, track_id: str, request: CheckoutRequest) -> CheckoutView:
        """The track's offer through the core's one checkout path (one open session per buyer)."""
        track = self._buyable_by(principal, track_id)
        self._checkout.check_urls(request.success_url, request.cancel_url)
        buyer = Buyer(key=principal.user_id, user_id=principal.user_id, customer_id=self._customer(principal))
        session = self._checkout.open(buyer, self._offer(track), success_url=request.success_url,
                                      cancel_url=request.cancel_url)
        return _checkout_view(session)

    def create_signup_checkout(self, track_id: str, request: SignupCheckoutRequest,
                               client_key: str | None) -> CheckoutView:
        """Anonymous: Stripe collects e-mail and name; the account is created when the payment succeeds, with the
        terms accepted here (``metadata.terms_version``; accepted when the session was created).
        The buyer is named by the client's ``Idempotency-Key`` (a double click returns the same session)."""
        require_current(request.accepted_terms_version, self._terms_version)
        track = self.track(track_id)
        self._checkout.check_urls(request.success_url, request.cancel_url)
        if client_key is not None and not CLIENT_KEY.match(client_key):
            raise InvalidRequest("Idempotency-Key must be 8-100 letters, digits or _.:-", field="Idempotency-Key")
        digest = hashlib.sha256((client_key or uuid.uuid4().hex).encode()).hexdigest()[:32]
        offer = self._offer(track)
        offer = offer.model_copy(update={"metadata": {**offer.metadata,
                                                      "terms_version": request.accepted_terms_version}})
        session = self._checkout.open(
            Buyer(key=f"anonymous-{digest}"), offer, success_url=request.success_url,
            cancel_url=request.cancel_url, channel="signup",
            extra={"customer_creation": "always", "billing_address_collection": "auto"})
        self._signups.create(Signup(session_id=session.session_id, track_id=track.track_id))
        return _checkout_view(session)

    # ------------------------------------------------------------------------------ success page
    def _recover_if_stale(self, signup: Signup) -> None:
        """A sign-up still processing after ``RECOVERY_AFTER_SECONDS`` may have lost its webhook: Stripe is asked
        about the session and its missed events are relayed to the bus (``coursepay.reconciliation``), so the
        buyer never waits on a lost webhook (nor on the next scheduled reconciliation)."""
        if self._recover is None:
            return
        now = int(time.time())
        created = int(datetime.fromisoformat(signup.created_at.replace("Z", "+00:00")).timestamp())
        if now - created < RECOVERY_AFTER_SECONDS or not self._signups.claim_recovery_check(
                signup.session_id, now=now, every_seconds=RECOVERY_AFTER_SECONDS):
            return
        recovery = self._recover(signup.session_id)
        logger.info("sign-up recovery", session_id=signup.session_id, recovered=recovery.recovered,
                    session_status=recovery.session_status)

    def verify_signup(self, session_id: str) -> SignupVerification:
        """``ready`` once the account exists and the student is enrolled; ``processing`` before (202). Never
        tokens: the student signs in with the credentials from the welcome e-mail."""
        signup = self._signups.get(session_id) if SESSION_ID.match(session_id) else None
        if signup is None:
            raise NotFound("no sign-up for this checkout session", field="sessionId")
        if signup.status == "failed":
            raise PaymentDeclined("the payment did not go through; no account was created", field="sessionId")
        if signup.status == "expired":
            raise NotFound("this checkout session expired without payment", field="sessionId",
                           code="checkout_expired")
        if signup.status != "ready":
            self._recover_if_stale(signup)
            return SignupVerification(status="processing", session_id=session_id, track_id=signup.track_id,
                                      retry_after_seconds=2)
        track = self._tracks.get(signup.track_id)
        # The address is read from the profile, not copied into the sign-up record: deleting the account removes it.
        profile = self._accounts.get_profile(signup.user_id) if signup.user_id else None
        email = profile.email if profile else None
        return SignupVerification(
            status="ready", session_id=session_id, track_id=signup.track_id, email=email,
            track_name=track.name if track else None,
            next_steps=[
                f"Check the inbox of {email or 'your e-mail address'} for your welcome e-mail.",
                "A new account: choose your password with the single-use link it contains (POST /auth/set-password), "
                "then sign in (POST /auth/login). An existing account: sign in with your password.",
                "Open your track, its first project and your tools (GET /me/tracks).",
            ])


def _checkout_view(session: OpenedSession) -> CheckoutView:
    return CheckoutView(session_id=session.session_id, url=session.url, payment_id=session.session_id,
                        expires_at=session.expires_at)
