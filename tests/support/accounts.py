"""Helpers of the accounts tests: the current terms version, the account e-mails moto's SES accepted (unit tests)
or the local stack's outbox holds (integration tests), and the token of a single-use link in an e-mail.
Fixtures: tests/support/accounts_fixtures.py."""

from __future__ import annotations

import re
from typing import Any

TERMS = "2025-01"  # template.yaml's TermsVersion default
LINK = re.compile(r"https?://\S+\?token=([A-Za-z0-9_-]{20,})")


def link_token(message: dict[str, Any]) -> str:
    """The token of the one link in an e-mail's plain-text part (``body``)."""
    [token] = set(LINK.findall(str(message["body"])))
    return token


def mails_to(address: str, subject: str) -> list[dict[str, Any]]:
    """E-mails to ``address`` whose subject starts with ``subject`` (moto in-process), oldest first."""
    from local.stack.ses_messages import sent_messages

    return [m for m in sent_messages() if m["to"] == [address] and str(m["subject"]).startswith(subject)]


# ------------------------------------------------------------------------------ through the local stack
def outbox_mails(api: Any, address: str, subject: str) -> list[dict[str, Any]]:
    """E-mails to ``address`` in the local stack's outbox whose subject starts with ``subject``, newest first."""
    response = api.get("/_local/outbox.json")
    response.raise_for_status()
    return [m for m in response.json()["messages"]
            if address in (m.get("to") or []) and str(m.get("subject", "")).startswith(subject)]


def register_verified(api: Any, stack: Any, email: str, password: str, name: str) -> dict[str, Any]:
    """A student as a person makes one: POST /auth/register accepting the stack's terms, then the link of the
    verification e-mail (sent while registering, so already in the outbox). Returns the registered profile."""
    created = api.post("/auth/register", json={"email": email, "password": password, "name": name,
                                               "accepted_terms_version": str(stack.parameters["TermsVersion"])})
    assert created.status_code == 201, created.text
    [mail] = outbox_mails(api, email, "Confirm your e-mail address")
    verified = api.post("/auth/verify-email", json={"token": link_token(mail)})
    assert verified.status_code == 200, verified.text
    profile: dict[str, Any] = created.json()
    return profile
