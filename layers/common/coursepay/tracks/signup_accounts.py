"""Payment-first sign-up: the account of a buyer who paid before having one, made when the payment succeeds.

The account is the existing one for a known e-mail, else a new student with no usable password (Cognito's
required temporary password is random and told to nobody) and an unverified e-mail: the welcome e-mail's
single-use link sets the password and proves the address (docs/decisions.md D5). The terms the buyer accepted at
checkout (``terms_version`` in the Checkout Session's metadata, accepted when the session was created) are
recorded with the account.
"""

from __future__ import annotations

from coursepay.accounts.consent import Consent, ConsentLedger
from coursepay.accounts.identity import CognitoIdentity
from coursepay.accounts.models import Profile, normalise_email
from coursepay.accounts.repository import AccountsRepository
from coursepay.clock import iso_now
from coursepay.errors import Conflict, InvalidRequest, NotFound
from coursepay.identity import STUDENTS
from coursepay.storage.audit import AuditEntry, AuditTrail


class PaymentFirstAccounts:
    def __init__(self, identity: CognitoIdentity, accounts: AccountsRepository, audit: AuditTrail,
                 consents: ConsentLedger) -> None:
        self._identity = identity
        self._accounts = accounts
        self._audit = audit
        self._consents = consents

    def account_for(self, email: str | None, name: str | None, actor: str,
                    consent: Consent | None = None) -> tuple[str, str]:
        """The account of a payment-first buyer (existing for a known e-mail, else new), with the consent given at
        checkout recorded; returns (user id, e-mail)."""
        if not email:
            raise InvalidRequest("the checkout session has no customer e-mail")
        email = normalise_email(email)
        name = (name or email.split("@")[0]).strip()[:120]
        user_id = self._identity.find_user_id(email)
        if user_id is None:
            try:
                user_id = self._identity.create_user(email, name)
            except Conflict:
                user_id = self._identity.find_user_id(email)
            if user_id is None:
                raise NotFound(f"the account for {email} vanished while it was being created")
        self._identity.add_to_group(email, STUDENTS)
        if self._accounts.get_item(user_id) is None:
            self._accounts.save_profile(Profile(user_id=user_id, email=email, name=name, created_at=iso_now(),
                                                email_verified=False))
            self._audit.record(AuditEntry(entity=f"user#{user_id}", action="account.created_by_payment", actor=actor,
                                          after={"group": STUDENTS, "origin": "track_signup"}))
        if consent is not None:
            self._consents.record(user_id, consent, actor)
        return user_id, email
