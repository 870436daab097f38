"""Accounts: request, response and domain models."""

from __future__ import annotations

import re
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def normalise_email(value: str) -> str:
    value = value.strip().lower()
    if len(value) > 254 or not _EMAIL.match(value):
        raise ValueError("not a valid e-mail address")
    return value


class _Request(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class RegisterRequest(_Request):
    email: str
    password: str = Field(min_length=8, max_length=256)
    name: str = Field(min_length=1, max_length=120)

    _email = field_validator("email")(normalise_email)

    @field_validator("password")
    @classmethod
    def _strong_enough(cls, value: str) -> str:
        # The user pool's policy, checked before any user is created so a weak password changes nothing.
        if not (re.search(r"[a-z]", value) and re.search(r"[A-Z]", value) and re.search(r"\d", value)):
            raise ValueError("needs a lower-case letter, an upper-case letter and a digit")
        return value


class LoginRequest(_Request):
    email: str
    password: str = Field(min_length=1, max_length=256)

    _email = field_validator("email")(normalise_email)


class RefreshRequest(_Request):
    refresh_token: str = Field(min_length=1)


class NewPasswordRequest(_Request):
    email: str
    session: str = Field(min_length=1)
    new_password: str = Field(min_length=8, max_length=256)

    _email = field_validator("email")(normalise_email)
    _strong = field_validator("new_password")(RegisterRequest._strong_enough.__func__)  # type: ignore[attr-defined]


class GroupRequest(_Request):
    group: Literal["students", "teachers", "admins"]


class Tokens(BaseModel):
    access_token: str
    id_token: str
    refresh_token: str | None = None
    expires_in: int
    token_type: str = "Bearer"


class NewPasswordChallenge(BaseModel):
    challenge: Literal["NEW_PASSWORD_REQUIRED"] = "NEW_PASSWORD_REQUIRED"
    session: str
    message: str = "a new password must be set before the first sign-in (POST /auth/new-password)"


class Profile(BaseModel):
    user_id: str
    email: str
    name: str
    created_at: str
    groups: list[str] = Field(default_factory=list)
