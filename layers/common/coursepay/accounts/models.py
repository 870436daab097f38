"""Accounts: request, response and domain models."""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from coursepay.text import PlainText
from coursepay.views import PublicView

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def normalise_email(value: str) -> str:
    value = value.strip().lower()
    if len(value) > 254 or not _EMAIL.match(value):
        raise ValueError("not a valid e-mail address")
    return value


class _Request(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


def strong_password(value: str) -> str:
    # The user pool's policy, checked before anything is changed so a weak password changes nothing.
    if not (re.search(r"[a-z]", value) and re.search(r"[A-Z]", value) and re.search(r"\d", value)):
        raise ValueError("needs a lower-case letter, an upper-case letter and a digit")
    return value


TermsVersion = Annotated[str, Field(min_length=1, max_length=40, pattern=r"^[A-Za-z0-9._-]+$")]


class RegisterRequest(_Request):
    email: str
    password: str = Field(min_length=8, max_length=256)
    name: PlainText = Field(min_length=1, max_length=120)
    accepted_terms_version: TermsVersion

    _email = field_validator("email")(normalise_email)
    _strong = field_validator("password")(strong_password)


class LoginRequest(_Request):
    email: str
    password: str = Field(min_length=1, max_length=256)

    _email = field_validator("email")(normalise_email)


class RefreshRequest(_Request):
    refresh_token: str = Field(min_length=1, max_length=8192)  # a Cognito one is ~1,800 characters


class SetPasswordRequest(_Request):
    token: str = Field(min_length=20, max_length=200)
    new_password: str = Field(min_length=8, max_length=256)

    _strong = field_validator("new_password")(strong_password)


class EmailRequest(_Request):
    email: str

    _email = field_validator("email")(normalise_email)


class TokenRequest(_Request):
    token: str = Field(min_length=20, max_length=200)


class GroupRequest(_Request):
    group: Literal["students", "teachers", "admins"]


class Tokens(BaseModel):
    access_token: str
    id_token: str
    refresh_token: str | None = None
    expires_in: int
    token_type: str = "Bearer"


class Profile(BaseModel):
    user_id: str
    email: str
    name: str
    created_at: str
    groups: list[str] = Field(default_factory=list)
    email_verified: bool = True  # False for a self-registered account until its verification link is used
    terms_version: str | None = None
    terms_accepted_at: str | None = None


class Accepted(BaseModel):
    """The answer of the routes that start an e-mailed flow: the same whether or not the e-mail has an account."""

    status: Literal["accepted"] = "accepted"
    message: str


class TermsView(PublicView):
    model_config = ConfigDict(json_schema_extra={"examples": [{"version": "2025-01"}]})

    version: str  # the terms a sign-up accepts (``accepted_terms_version``)


class LinkUsed(PublicView):
    """The answer of an e-mailed link once used: what it did, for which address."""

    model_config = ConfigDict(json_schema_extra={"examples": [{
        "status": "email_verified",
        "email": "ada@example.com",
    }]})

    status: Literal["password_set", "email_verified"]
    email: str
