"""Settings of the accounts context: the accounts function's, and what other functions need of it."""

from __future__ import annotations

from pydantic import Field

from coursepay.settings import AccountsSettings, FunctionSettings

PAGE_URL = r"^https?://[^\s?#]+$"


class TermsSettings(FunctionSettings):
    """The version of the terms of service and privacy notice a sign-up must accept (``TermsVersion``)."""

    terms_version: str = Field(min_length=1, max_length=40, pattern=r"^[A-Za-z0-9._-]+$")


class AccountLinkSettings(FunctionSettings):
    """Where the links of account e-mails point: the frontend's pages, which read ``?token=`` and POST it."""

    email_sender: str
    set_password_page_url: str = Field(pattern=PAGE_URL)  # SetPasswordPageUrl: the welcome link and resets
    verify_email_page_url: str = Field(pattern=PAGE_URL)  # VerifyEmailPageUrl


class AccountsFunctionSettings(AccountsSettings, TermsSettings, AccountLinkSettings):
    """AccountsFunction: sign-up, sign-in, links, consent, and the personal-data export and deletion (which read
    the payments and enrollments tables)."""

    payments_table: str
    enrollments_table: str
