"""Buying a track: PaymentIntent or Checkout Session when signed in, Checkout Session for payment-first sign-up,
and the sign-up status the success page polls.

The amount always comes from the catalogue; the request models refuse any amount or currency a client sends.
Double clicks get the same Stripe object: an ``OPEN#`` pointer per (user, track, channel) remembers the current
attempt and its *generation*; a request reuses the attempt while Stripe says it is still payable, and otherwise
opens the next generation. Stripe calls carry ``track-<channel>-<user>-<track>-g<generation>`` as idempotency
key, so two concurrent first clicks (same generation) get one PaymentIntent/Session from Stripe.
"""

from __future__ import annotations

import contextlib
import hashlib
import re
import uuid
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import urlsplit

from coursepay.accounts.repository import AccountsRepository
from coursepay.api.principal import ADMINS, STUDENTS, Principal
from coursepay.billing.customers import CustomerDirectory
from coursepay.billing.enrollments import EnrollmentsRepository
from coursepay.billing.payments import Payment, PaymentsRepository
from coursepay.clock import iso_now
from coursepay.errors import ConditionFailed, Conflict, InvalidRequest, NotFound, PaymentDeclined
from coursepay.storage.audit import AuditEntry, AuditTrail
from coursepay.storage.dynamo import DynamoTable
from coursepay.stripe_gateway.errors import stripe_errors
from coursepay.tracks.catalogue import Track, TracksRepository
from coursepay.tracks.models import CheckoutRequest, CheckoutView, PaymentIntentView, SignupVerification
from coursepay.tracks.signups import Signup, SignupsRepository

if TYPE_CHECKING:
    import stripe

Channel = Literal["payment_intent", "checkout", "signup"]
PAYABLE_INTENT_STATES = frozenset({"requires_payment_method", "requires_confirmation", "requires_action", "processing"})
CLIENT_KEY = re.compile(r"^[A-Za-z0-9_.:-]{8,100}$")
SESSION_ID = re.compile(r"^cs_[A-Za-z0-9_]{1,200}$")
SESSION_PLACEHOLDER = "{CHECKOUT_SESSION_ID}"


class OpenPurchases:
    """``pk=OPEN#<user>#track#<track>#<channel>, sk=OPEN`` (payments table): the current attempt's payment id."""

    def __init__(self, payments_table: str) -> None:
        self._table = DynamoTable(payments_table)

    @staticmethod
    def _key(user_id: str, track_id: str, channel: Channel) -> dict[str, str]:
        return {"pk": f"OPEN#{user_id}#track#{track_id}#{channel}", "sk": "OPEN"}

    def get(self, user_id: str, track_id: str, channel: Channel) -> tuple[str, int] | None:
        item = self._table.get(self._key(user_id, track_id, channel))
        return (str(item["payment_id"]), int(item["generation"])) if item else None

    def advance(self, user_id: str, track_id: str, channel: Channel, generation: int, payment_id: str) -> None:
        # A concurrent request may have recorded this generation (or a newer one) already: that one stands.
        with contextlib.suppress(ConditionFailed):
            self._table.put({**self._key(user_id, track_id, channel), "payment_id": payment_id,
                             "generation": generation, "updated_at": iso_now()},
                            condition="attribute_not_exists(pk) OR generation < :g", values={":g": generation})


def check_redirect(url: str, field: str, allowed_origins: tuple[str, ...]) -> str:
    parts = urlsplit(url)
    origin = f"{parts.scheme}://{parts.netloc}".lower()
    if parts.scheme not in ("https", "http") or not parts.netloc or origin not in {o.lower() for o in allowed_origins}:
        raise InvalidRequest(f"{field} must start with one of the allowed origins", field=field)
    return url


def with_session_placeholder(url: str) -> str:
    if SESSION_PLACEHOLDER in url:
        return url
    return f"{url}{'&' if '?' in url else '?'}session_id={SESSION_PLACEHOLDER}"


def _metadata(track: Track, channel: Channel, user_id: str | None) -> dict[str, str]:
    metadata = {"kind": "track", "track_id": track.track_id, "channel": channel,
                "anonymous": "true" if user_id is None else "false"}
    if user_id:
        metadata["user_id"] = user_id
    return metadata


class TrackPurchases:
    def __init__(self, *, tracks: TracksRepository, payments: PaymentsRepository, enrollments: EnrollmentsRepository,
                 customers: CustomerDirectory, accounts: AccountsRepository, signups: SignupsRepository,
                 open_purchases: OpenPurchases, audit: AuditTrail, stripe_client: Callable[[], stripe.StripeClient],
                 publishable_key: Callable[[], str], allowed_origins: tuple[str, ...]) -> None:
        self._tracks = tracks
        self._payments = payments
        self._enrollments = enrollments
        self._customers = customers
        self._accounts = accounts
        self._signups = signups
        self._open = open_purchases
        self._audit = audit
        self._stripe = stripe_client
        self._publishable_key = publishable_key
        self._origins = allowed_origins

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

    def _record(self, payment: Payment, actor: str) -> None:
        if self._payments.create(payment):
            self._audit.record(AuditEntry(entity=f"payment#{payment.payment_id}", action="payment.created",
                                          actor=actor, after=payment.model_dump(exclude_none=True)))

    def _current_attempt(self, principal: Principal, track: Track, channel: Channel, retrieve: Callable[[str], Any],
                         *, paid: Callable[[Any], bool], reusable: Callable[[Any], bool]) -> tuple[Any | None, int]:
        """The open attempt to return again (a double click), or None and the generation of the next attempt."""
        current = self._open.get(principal.user_id, track.track_id, channel)
        if current is None:
            return None, 1
        object_id, generation = current
        with stripe_errors("read the current payment attempt"):
            attempt = retrieve(object_id)
        if paid(attempt):
            raise Conflict("this track is paid already; the enrollment is on its way", field="trackId")
        return (attempt, generation) if reusable(attempt) else (None, generation + 1)

    # ------------------------------------------------------------------------------ signed in: PaymentIntent
    def create_payment_intent(self, principal: Principal, track_id: str) -> PaymentIntentView:
        track = self._buyable_by(principal, track_id)
        client = self._stripe()
        current, generation = self._current_attempt(
            principal, track, "payment_intent", client.v1.payment_intents.retrieve,
            paid=lambda intent: intent.status == "succeeded",
            reusable=lambda intent: (intent.status in PAYABLE_INTENT_STATES and intent.amount == track.price
                                     and intent.currency == track.currency))
        if current is not None:
            return self._intent_view(current)
        customer_id = self._customer(principal)
        with stripe_errors("create the payment"):
            intent = client.v1.payment_intents.create(
                params={
                    "amount": track.price,
                    "currency": track.currency,
                    "customer": customer_id,
                    "automatic_payment_methods": {"enabled": True},
                    "description": f"{track.name} track",
                    "metadata": _metadata(track, "payment_intent", principal.user_id),
                },
                options={"idempotency_key": f"track-pi-{principal.user_id}-{track.track_id}-g{generation}"},
            )
        self._record(Payment(payment_id=intent.id, user_id=principal.user_id, kind="track", item_id=track.track_id,
                             amount=track.price, currency=track.currency, stripe_customer_id=customer_id,
                             stripe_payment_intent_id=intent.id), actor=f"user:{principal.user_id}")
        self._open.advance(principal.user_id, track.track_id, "payment_intent", generation, intent.id)
        return self._intent_view(intent)

    def _intent_view(self, intent: Any) -> PaymentIntentView:
        return PaymentIntentView(client_secret=intent.client_secret, payment_intent_id=intent.id, amount=intent.amount,
                                 currency=intent.currency, status=intent.status,
                                 publishable_key=self._publishable_key())

    # ------------------------------------------------------------------------------ Checkout Sessions
    def _session_params(self, track: Track, request: CheckoutRequest, channel: Channel,
                        user_id: str | None) -> dict[str, Any]:
        success = check_redirect(request.success_url, "success_url", self._origins)
        cancel = check_redirect(request.cancel_url, "cancel_url", self._origins)
        metadata = _metadata(track, channel, user_id)
        return {
            "mode": "payment",
            "line_items": [{"quantity": 1, "price_data": {
                "currency": track.currency, "unit_amount": track.price,
                "product_data": {"name": f"{track.name} track", "metadata": {"kind": "track",
                                                                             "track_id": track.track_id}}}}],
            "success_url": with_session_placeholder(success),
            "cancel_url": cancel,
            "metadata": metadata,
            "payment_intent_data": {"metadata": metadata, "description": f"{track.name} track"},
        }

    def create_checkout(self, principal: Principal, track_id: str, request: CheckoutRequest) -> CheckoutView:
        track = self._buyable_by(principal, track_id)
        params = self._session_params(track, request, "checkout", principal.user_id)
        client = self._stripe()
        current, generation = self._current_attempt(
            principal, track, "checkout", client.v1.checkout.sessions.retrieve,
            paid=lambda session: session.status == "complete",
            reusable=lambda session: (session.status == "open" and session.amount_total == track.price
                                      and session.success_url == params["success_url"]
                                      and session.cancel_url == params["cancel_url"]))
        if current is not None:
            return _checkout_view(current)
        customer_id = self._customer(principal)
        with stripe_errors("create the checkout session"):
            session = client.v1.checkout.sessions.create(
                params={**params, "customer": customer_id, "client_reference_id": principal.user_id},  # type: ignore[arg-type]
                options={"idempotency_key": f"track-checkout-{principal.user_id}-{track.track_id}-g{generation}"},
            )
        self._record(Payment(payment_id=session.id, user_id=principal.user_id, kind="track", item_id=track.track_id,
                             amount=track.price, currency=track.currency, stripe_customer_id=customer_id,
                             stripe_checkout_session_id=session.id), actor=f"user:{principal.user_id}")
        self._open.advance(principal.user_id, track.track_id, "checkout", generation, session.id)
        return _checkout_view(session)

    def create_signup_checkout(self, track_id: str, request: CheckoutRequest, client_key: str | None) -> CheckoutView:
        """Anonymous: Stripe collects e-mail and name; the account is created when the payment succeeds.
        A client ``Idempotency-Key`` header makes a double click return the same session."""
        track = self.track(track_id)
        params = self._session_params(track, request, "signup", None)
        if client_key is not None and not CLIENT_KEY.match(client_key):
            raise InvalidRequest("Idempotency-Key must be 8-100 letters, digits or _.:-", field="Idempotency-Key")
        key = client_key or uuid.uuid4().hex
        digest = hashlib.sha256(key.encode()).hexdigest()[:32]
        with stripe_errors("create the checkout session"):
            session = self._stripe().v1.checkout.sessions.create(
                params={**params, "customer_creation": "always",  # type: ignore[arg-type]
                        "billing_address_collection": "auto"},
                options={"idempotency_key": f"track-signup-{track.track_id}-{digest}"},
            )
        self._record(Payment(payment_id=session.id, kind="track", item_id=track.track_id, amount=track.price,
                             currency=track.currency, stripe_checkout_session_id=session.id), actor="anonymous")
        self._signups.create(Signup(session_id=session.id, track_id=track.track_id))
        return _checkout_view(session)

    # ------------------------------------------------------------------------------ success page
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
            return SignupVerification(status="processing", session_id=session_id, track_id=signup.track_id,
                                      retry_after_seconds=2)
        track = self._tracks.get(signup.track_id)
        return SignupVerification(
            status="ready", session_id=session_id, track_id=signup.track_id, email=signup.email,
            track_name=track.name if track else None,
            next_steps=[
                f"Check the inbox of {signup.email} for your welcome e-mail.",
                "Sign in with the e-mail address and the temporary password it contains (POST /auth/login) - or "
                "with your existing password if you already had an account.",
                "Choose your own password when asked (POST /auth/new-password); the temporary one expires.",
                "Open your track, its first project and your tools (GET /me/tracks).",
            ])


def _checkout_view(session: Any) -> CheckoutView:
    return CheckoutView(session_id=session.id, url=session.url, payment_id=session.id, expires_at=session.expires_at)
