"""Accounts: registration (always a student, with consent, e-mail to verify), sign-in (only with a verified
e-mail), refresh, profile, promotion by an admin."""

from __future__ import annotations

from coursepay.accounts.consent import Consent, ConsentLedger, require_current
from coursepay.accounts.identity import CognitoIdentity
from coursepay.accounts.links import AccountLinkFlows
from coursepay.accounts.models import Profile, RegisterRequest, Tokens
from coursepay.accounts.repository import AccountsRepository
from coursepay.clock import iso_now
from coursepay.errors import Forbidden, NotFound
from coursepay.identity import ADMINS, STUDENTS, Principal
from coursepay.storage.audit import AuditEntry, AuditTrail


class AccountService:
    def __init__(self, identity: CognitoIdentity, accounts: AccountsRepository, audit: AuditTrail, *,
                 consents: ConsentLedger, links: AccountLinkFlows, terms_version: str) -> None:
        self._identity = identity
        self._accounts = accounts
        self._audit = audit
        self._consents = consents
        self._links = links
        self.terms_version = terms_version

    def register(self, request: RegisterRequest) -> Profile:
        require_current(request.accepted_terms_version, self.terms_version)
        user_id = self._identity.create_user(request.email, request.name, password=request.password)
        self._identity.add_to_group(request.email, STUDENTS)
        now = iso_now()
        profile = Profile(user_id=user_id, email=request.email, name=request.name, created_at=now,
                          groups=[STUDENTS], email_verified=False)
        self._accounts.save_profile(profile)
        # No e-mail or name in the audit trail: it is kept after an account is deleted (docs/decisions.md D10).
        self._audit.record(AuditEntry(entity=f"user#{user_id}", action="account.registered",
                                      actor=f"user:{user_id}", after={"group": STUDENTS, "origin": "registration"}))
        consent = Consent(version=request.accepted_terms_version, accepted_at=now, channel="registration")
        self._consents.record(user_id, consent, actor=f"user:{user_id}")
        self._links.send_verification(user_id, request.email, request.name)
        return profile.model_copy(update={"terms_version": consent.version, "terms_accepted_at": now})

    def sign_in(self, email: str, password: str) -> Tokens:
        tokens = self._identity.sign_in(email, password)
        # Asked only after the password was right, so this tells nothing to someone who does not know it.
        state = self._identity.account_state(email)
        if state is not None and not state.email_verified:
            raise Forbidden("confirm your e-mail address first with the link we sent you "
                            "(POST /auth/verify-email/resend sends a new one)", field="email",
                            code="email_not_verified")
        return tokens

    def refresh(self, refresh_token: str) -> Tokens:
        return self._identity.refresh(refresh_token)

    def me(self, principal: Principal) -> Profile:
        profile = self._accounts.get_profile(principal.user_id)
        if profile is None:
            raise NotFound("no profile for this user")
        return profile.model_copy(update={"groups": sorted(principal.groups)})

    def add_to_group(self, admin: Principal, user_id: str, group: str) -> Profile:
        admin.require_any_group(ADMINS)
        profile = self._accounts.get_profile(user_id)
        if profile is None:
            raise NotFound("no such user", field="userId")
        before = self._identity.groups_of(profile.email)
        self._identity.add_to_group(profile.email, group)
        after = self._identity.groups_of(profile.email)
        self._audit.record(AuditEntry(entity=f"user#{user_id}", action="account.group_added",
                                      actor=f"user:{admin.user_id}", before={"groups": before},
                                      after={"groups": after}))
        return profile.model_copy(update={"groups": after})
