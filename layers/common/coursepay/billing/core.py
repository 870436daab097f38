"""The billing core, assembled once per container: what every product kind plugs into.

A product kind (course, track, booking) gets a :class:`BillingCore` and uses its ``checkout`` (hosted page) or
``intents`` (one PaymentIntent per purchase) to sell,
its ``ledger`` to record what Stripe reports, ``duplicates`` when a purchase repeats one the buyer already has,
``attempts`` for declined hosted-checkout attempts and ``access`` for what money events do to enrollments.
It gives back its Stripe event handlers and its :class:`~coursepay.billing.money_events.AccessPolicy`;
the fulfilment consumer wires them (docs/engineering.md, "Adding a product kind").
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from functools import cached_property
from typing import TYPE_CHECKING

from coursepay.billing.access import AccessChanges
from coursepay.billing.attempts import CheckoutAttempts
from coursepay.billing.checkout import CheckoutSessions, OpenSessions
from coursepay.billing.duplicates import DuplicatePurchases
from coursepay.billing.enrollments import EnrollmentsRepository
from coursepay.billing.intents import OpenIntents, PaymentIntents
from coursepay.billing.ledger import PaymentLedger
from coursepay.billing.money_events import AccessPolicy, MoneyEvents, StandardAccessPolicy
from coursepay.billing.parking import ParkedEvents
from coursepay.billing.payments import PaymentsRepository
from coursepay.billing.refunds import Refunds
from coursepay.errors import DomainError
from coursepay.events.envelope import Envelope
from coursepay.storage.audit import AuditTrail

if TYPE_CHECKING:
    import stripe


class BusNotConfigured(DomainError):
    code = "bus_not_configured"


class EnrollmentsNotConfigured(DomainError):
    code = "enrollments_not_configured"


class BillingCore:
    def __init__(self, *, payments_table: str, enrollments_table: str | None, audit_table: str,
                 event_bus_name: str | None, stripe_client: Callable[[], stripe.StripeClient],
                 allowed_origins: tuple[str, ...] = ()) -> None:
        """``enrollments_table`` None: a kind that grants no enrollment (bookings) needs no access to it."""
        self.payments_table = payments_table
        self.audit = AuditTrail(audit_table)
        self._enrollments_table = enrollments_table
        self.stripe = stripe_client
        self._bus = event_bus_name
        self._origins = allowed_origins
        self.ledger = PaymentLedger(PaymentsRepository(payments_table), self.audit, self.publish)

    def publish(self, envelopes: Sequence[Envelope]) -> None:
        if not self._bus:
            raise BusNotConfigured("this function has no event bus: it cannot publish money events")
        from coursepay.events.publisher import EventPublisher

        EventPublisher(self._bus).publish(envelopes)

    @cached_property
    def enrollments(self) -> EnrollmentsRepository:
        if not self._enrollments_table:
            raise EnrollmentsNotConfigured("this function has no enrollments table")
        return EnrollmentsRepository(self._enrollments_table)

    @cached_property
    def access(self) -> AccessChanges:
        return AccessChanges(self.enrollments, self.audit)

    @cached_property
    def checkout(self) -> CheckoutSessions:
        return CheckoutSessions(ledger=self.ledger, open_sessions=OpenSessions(self.payments_table),
                                stripe_client=self.stripe, allowed_origins=self._origins)

    @cached_property
    def intents(self) -> PaymentIntents:
        return PaymentIntents(ledger=self.ledger, open_intents=OpenIntents(self.payments_table),
                              stripe_client=self.stripe)

    @cached_property
    def refunds(self) -> Refunds:
        return Refunds(self.audit, self.stripe)

    @cached_property
    def duplicates(self) -> DuplicatePurchases:
        return DuplicatePurchases(self.ledger, self.stripe)

    @cached_property
    def attempts(self) -> CheckoutAttempts:
        return CheckoutAttempts(self.ledger, self.stripe)

    def standard_policy(self) -> StandardAccessPolicy:
        return StandardAccessPolicy(self.access)

    def money_events(self, policies: Mapping[str, AccessPolicy]) -> MoneyEvents:
        """The kind-less money events, with each kind's access policy (the standard one for the others)."""
        return MoneyEvents(self.ledger, ParkedEvents(self.payments_table), self.audit, policies,
                           self.standard_policy())
