"""Payment-first sign-up: the account of a buyer who paid before having one, made when the payment succeeds.

The account is the existing one for a known e-mail, else a new student whose Cognito-only temporary password
nobody knows (the welcome e-mail sets and sends a fresh one: docs/decisions.md D5).
"""

from __future__ import annotations

from coursepay.accounts.identity import CognitoIdentity
from coursepay.accounts.models import Profile, normalise_email
from coursepay.accounts.repository import AccountsRepository
from coursepay.clock import iso_now
from coursepay.errors import Conflict, InvalidRequest, NotFound
from coursepay.identity import STUDENTS
from coursepay.storage.audit import AuditEntry, AuditTrail
from coursepay.tracks.credentials import temporary_password


class PaymentFirstAccounts:
    def __init__(self, identity: CognitoIdentity, accounts: AccountsRepository, audit: AuditTrail) -> None:
        self._identity = identity
        self._accounts = accounts
        self._audit = audit

    def account_for(self, email: str | None, name: str | None, actor: str) -> tuple[str, str]:
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
