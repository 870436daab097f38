"""Accounts: registration (always a student), sign-in, refresh, first-sign-in password, profile,
promotion by an admin."""

from __future__ import annotations

from coursepay.accounts.identity import CognitoIdentity
from coursepay.accounts.models import (
    NewPasswordChallenge,
    Profile,
    RegisterRequest,
    Tokens,
)
from coursepay.accounts.repository import AccountsRepository
from coursepay.clock import iso_now
from coursepay.errors import NotFound
from coursepay.identity import ADMINS, STUDENTS, Principal
from coursepay.storage.audit import AuditEntry, AuditTrail


class AccountService:
    def __init__(self, identity: CognitoIdentity, accounts: AccountsRepository, audit: AuditTrail) -> None:
        self._identity = identity
        self._accounts = accounts
        self._audit = audit

    def register(self, request: RegisterRequest) -> Profile:
        user_id = self._identity.create_user(request.email, request.name, password=request.password)
        self._identity.add_to_group(request.email, STUDENTS)
        profile = Profile(user_id=user_id, email=request.email, name=request.name, created_at=iso_now(),
                          groups=[STUDENTS])
        self._accounts.save_profile(profile)
        self._audit.record(AuditEntry(entity=f"user#{user_id}", action="account.registered",
                                      actor=f"user:{user_id}", after={"email": profile.email, "group": STUDENTS}))
        return profile

    def sign_in(self, email: str, password: str) -> Tokens | NewPasswordChallenge:
        return self._identity.sign_in(email, password)

    def complete_new_password(self, email: str, session: str, new_password: str) -> Tokens:
        return self._identity.complete_new_password(email, session, new_password)

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
