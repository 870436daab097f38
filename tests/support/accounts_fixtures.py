"""Fixtures of the accounts unit tests (``pytest_plugins = ("tests.support.accounts_fixtures",)``)."""

from __future__ import annotations

from collections.abc import Callable
from types import ModuleType
from typing import Any

import pytest


@pytest.fixture
def accounts(load_function: Callable[[str, str], ModuleType], aws: Any) -> ModuleType:
    """The accounts function with the template's environment; its sender is a verified SES identity."""
    aws.client("ses").verify_email_identity(EmailAddress="no-reply@example.com")
    return load_function("AccountsFunction", "accounts")
