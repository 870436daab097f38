"""A user's personal data: the export (``GET /me/export``) and the deletion of the account (``DELETE /me``).

Deletion removes what identifies the person - the Cognito user (e-mail, name, password: every way to sign in),
the profile's e-mail and name (the profile becomes a tombstone) and the account links - and keeps, under the
pseudonymous user id only, what the law makes us keep: payment records (7 years: tax and accounting rules) with
their refunds, disputes and refund requests, the enrollments they paid for, the consents given, the Stripe
Customer mapping (so a refund or dispute that Stripe reports later still finds its payment) and the audit trail,
which never holds an e-mail or a name. Nothing kept names the person; docs/decisions.md D10 says why and what
is not covered yet.
"""

from __future__ import annotations

from pydantic import BaseModel

from coursepay.accounts.consent import Consent, ConsentLedger
from coursepay.accounts.identity import CognitoIdentity
from coursepay.accounts.models import Profile
from coursepay.accounts.repository import AccountsRepository
from coursepay.accounts.tokens import AccountLinks
from coursepay.billing.enrollments import Enrollment, EnrollmentsRepository
from coursepay.billing.payments import Payment, PaymentsRepository
from coursepay.clock import iso_now
from coursepay.errors import Conflict, NotFound
from coursepay.identity import Principal
from coursepay.refunds.repository import RefundRequest, RefundRequestsRepository
from coursepay.storage.audit import AuditEntry, AuditTrail
from coursepay.subscriptions.models import Subscription
from coursepay.subscriptions.repository import SubscriptionsRepository

BILLING_SUBSCRIPTION_STATES = frozenset({"active", "trialing", "past_due", "unpaid", "incomplete", "paused"})
KEPT_AFTER_DELETION = ["payments", "refund_requests", "subscriptions", "enrollments", "consents", "stripe_customer",
                       "audit"]


class PersonalDataExport(BaseModel):
    """Everything kept about the user, records whole: it is theirs (GET /me/export)."""

    exported_at: str
    user_id: str
    profile: Profile
    consents: list[Consent]
    enrollments: list[Enrollment]
    payments: list[Payment]
    subscriptions: list[Subscription]
    refund_requests: list[RefundRequest]


class PersonalData:
    def __init__(self, *, identity: CognitoIdentity, accounts: AccountsRepository, consents: ConsentLedger,
                 links: AccountLinks, payments: PaymentsRepository, enrollments: EnrollmentsRepository,
                 subscriptions: SubscriptionsRepository, refund_requests: RefundRequestsRepository,
                 audit: AuditTrail) -> None:
        self._identity = identity
        self._accounts = accounts
        self._consents = consents
        self._links = links
        self._payments = payments
        self._enrollments = enrollments
        self._subscriptions = subscriptions
        self._refund_requests = refund_requests
        self._audit = audit

    def export(self, principal: Principal) -> PersonalDataExport:
        user_id = principal.user_id
        profile = self._accounts.get_profile(user_id)
        if profile is None:
            raise NotFound("no profile for this user")
        self._audit.record(AuditEntry(entity=f"user#{user_id}", action="account.data_exported",
                                      actor=f"user:{user_id}"))
        return PersonalDataExport(
            exported_at=iso_now(), user_id=user_id,
            profile=profile.model_copy(update={"groups": sorted(principal.groups)}),
            consents=self._consents.of_user(user_id), enrollments=self._enrollments.of_user(user_id),
            payments=self._payments.of_user(user_id), subscriptions=self._subscriptions.of_user(user_id),
            refund_requests=self._refund_requests.of_user(user_id))

    def delete(self, principal: Principal) -> None:
        """Idempotent: a second call (the access token outlives the account) finds the tombstone and does nothing."""
        user_id = principal.user_id
        item = self._accounts.get_item(user_id)
        if item is None:
            raise NotFound("no account for this user")
        if "deleted_at" in item:
            return
        billing = [s.subscription_id for s in self._subscriptions.of_user(user_id)
                   if s.status in BILLING_SUBSCRIPTION_STATES]
        if billing:
            # Deleting the account would leave Stripe charging a person nobody can reach any more.
            raise Conflict(f"cancel your subscriptions first ({', '.join(billing)})", code="subscriptions_active")
        # Sign-in first: a crash after it leaves a profile the retry erases (delete_user answers False then).
        self._identity.delete_user(str(item["email"]))
        self._links.forget_user(user_id)
        if self._accounts.erase_profile(user_id, iso_now()):
            self._audit.record(AuditEntry(entity=f"user#{user_id}", action="account.deleted", actor=f"user:{user_id}",
                                          after={"removed": ["cognito_user", "email", "name", "account_links"],
                                                 "kept_pseudonymous": KEPT_AFTER_DELETION}))
