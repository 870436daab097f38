"""The set-password link of an account created by a payment (payment-first sign-up): issued once per account,
in the welcome e-mail, however many purchases of that account race (claim ``account-welcome#<user id>``).

The token is made right before the e-mail is sent, inside the claim, so it exists only in that e-mail (its hash in
the accounts table): a failed send releases the claim and the retry issues a new link, which replaces the unsent
one. docs/decisions.md D5.
"""

from __future__ import annotations

from collections.abc import Callable

from coursepay.accounts.mail import SET_PASSWORD_LINK_SECONDS, link_to
from coursepay.accounts.tokens import AccountLinks
from coursepay.storage.idempotency import IdempotencyStore

LINK_VALIDITY_HOURS = SET_PASSWORD_LINK_SECONDS // 3600


class SetPasswordInvitations:
    def __init__(self, links: AccountLinks, claims: IdempotencyStore, page_url: str) -> None:
        self._links = links
        self._claims = claims
        self._page_url = page_url

    def once(self, user_id: str, send: Callable[[str], None]) -> bool:
        """Calls ``send(link)`` unless this account's invitation was sent already; True when it sent it now."""

        def invite() -> bool:
            token = self._links.issue(user_id, "password", valid_for_seconds=SET_PASSWORD_LINK_SECONDS)
            if token is None:  # cannot happen without a cooldown; never send a welcome without its link
                raise RuntimeError("no set-password link was issued")
            send(link_to(self._page_url, token))
            return True

        return bool(self._claims.run_once(f"account-welcome#{user_id}", invite, details={"user_id": user_id}))
