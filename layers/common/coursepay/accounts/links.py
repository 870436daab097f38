"""The flows of the single-use account links (``coursepay.accounts.tokens``): set a password (the payment-first
welcome link, a password reset), verify an e-mail address, and ask for either by e-mail.

A request by e-mail answers the same whether or not the address has an account (no account enumeration), and
sends at most one e-mail per address and purpose per ``RESEND_COOLDOWN_SECONDS``.
"""

from __future__ import annotations

from coursepay.accounts.identity import CognitoIdentity
from coursepay.accounts.mail import RESET_LINK_SECONDS, VERIFY_LINK_SECONDS, AccountMail
from coursepay.accounts.models import Accepted, LinkUsed, Profile
from coursepay.accounts.repository import AccountsRepository
from coursepay.accounts.tokens import AccountLinks, UsedLink
from coursepay.errors import InvalidRequest
from coursepay.observability import logger
from coursepay.storage.audit import AuditEntry, AuditTrail

RESEND_COOLDOWN_SECONDS = 60


class AccountLinkFlows:
    def __init__(self, identity: CognitoIdentity, accounts: AccountsRepository, links: AccountLinks,
                 mail: AccountMail, audit: AuditTrail) -> None:
        self._identity = identity
        self._accounts = accounts
        self._links = links
        self._mail = mail
        self._audit = audit

    # ------------------------------------------------------------------------------ e-mail verification
    def send_verification(self, user_id: str, email: str, name: str, *, cooldown_seconds: int = 0) -> None:
        token = self._links.issue(user_id, "verify_email", valid_for_seconds=VERIFY_LINK_SECONDS,
                                  cooldown_seconds=cooldown_seconds)
        if token is not None:
            self._mail.verify_email(email, name, token)

    def resend_verification(self, email: str) -> Accepted:
        profile = self._profile_of(email)
        if profile is not None and not profile.email_verified:
            self.send_verification(profile.user_id, profile.email, profile.name,
                                   cooldown_seconds=RESEND_COOLDOWN_SECONDS)
        return Accepted(message="if this address has an account waiting for confirmation, a new link is on its way")

    def verify_email(self, token: str) -> LinkUsed:
        used = self._links.use(token, "verify_email")
        profile = self._owner(used)
        self._identity.mark_email_verified(profile.email)
        self._accounts.mark_email_verified(profile.user_id)
        self._audit.record(AuditEntry(entity=f"user#{profile.user_id}", action="account.email_verified",
                                      actor=f"user:{profile.user_id}", after={"email_verified": True}))
        return LinkUsed(status="email_verified", email=profile.email)

    # ------------------------------------------------------------------------------ passwords
    def request_password_reset(self, email: str) -> Accepted:
        profile = self._profile_of(email)
        if profile is not None:
            token = self._links.issue(profile.user_id, "password", valid_for_seconds=RESET_LINK_SECONDS,
                                      cooldown_seconds=RESEND_COOLDOWN_SECONDS)
            if token is not None:
                self._mail.password_reset(profile.email, profile.name, token)
                self._audit.record(AuditEntry(entity=f"user#{profile.user_id}", action="account.password_reset_sent",
                                              actor="anonymous"))
        else:
            logger.info("password reset for an address without an account")
        return Accepted(message="if this address has an account, a link to choose a new password is on its way")

    def set_password(self, token: str, new_password: str) -> LinkUsed:
        """The password of the link's account (the welcome link or a reset). The link is used first, so two
        concurrent uses set one password; if Cognito then refuses the password, the link works again."""
        used = self._links.use(token, "password")
        profile = self._owner(used)
        try:
            self._identity.set_password(profile.email, new_password)
        except BaseException:
            self._links.release(used)
            raise
        # The link reached this inbox: the address is the user's.
        self._identity.mark_email_verified(profile.email)
        if not profile.email_verified:
            self._accounts.mark_email_verified(profile.user_id)
        self._identity.sign_out_everywhere(profile.email)  # whoever knew the old password is signed out
        self._audit.record(AuditEntry(entity=f"user#{profile.user_id}", action="account.password_set",
                                      actor=f"user:{profile.user_id}", after={"through": "link"}))
        return LinkUsed(status="password_set", email=profile.email)

    # ------------------------------------------------------------------------------ helpers
    def _profile_of(self, email: str) -> Profile | None:
        state = self._identity.account_state(email)
        return self._accounts.get_profile(state.user_id) if state is not None else None

    def _owner(self, used: UsedLink) -> Profile:
        profile = self._accounts.get_profile(used.user_id)
        if profile is None:  # the account was deleted after the link was sent
            raise InvalidRequest("this link is not valid; ask for a new one", field="token", code="token_unknown")
        return profile
