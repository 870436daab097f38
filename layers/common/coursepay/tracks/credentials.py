"""Temporary passwords for accounts created by payment-first sign-up.

A temporary password exists only in Cognito (which forces a change at the first sign-in and lets it expire
after the pool's TemporaryPasswordValidityDays) and in the one welcome e-mail that carries it. It is never
stored, logged or published on the bus: the notifications consumer sets it right before sending that e-mail
(docs/decisions.md D5).
"""

from __future__ import annotations

import secrets
import string

# Mirrors template.yaml (UserPool.Policies.PasswordPolicy.TemporaryPasswordValidityDays); shown in the e-mail.
TEMPORARY_PASSWORD_VALIDITY_DAYS = 3

_ALPHABET = string.ascii_letters + string.digits


def temporary_password(length: int = 16) -> str:
    """Random, and always satisfying the pool's policy (lower, upper, digit, >= 8 characters)."""
    body = [secrets.choice(_ALPHABET) for _ in range(length - 3)]
    body += [secrets.choice(string.ascii_lowercase), secrets.choice(string.ascii_uppercase),
             secrets.choice(string.digits)]
    secrets.SystemRandom().shuffle(body)
    return "".join(body)
