"""Fixtures of the learning-tool tests (``pytest_plugins = ("tests.support.tool_services",)``): the tool stand-ins
and a throwaway PostgreSQL cluster, in-process and once per session, and ``tool_secrets``: the moto Secrets
Manager of a unit test holding the values that point the provisioning function at them."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from local.stack.learning_tools import LearningTools


@pytest.fixture(scope="session")
def learning_tools(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LearningTools]:
    tools = LearningTools(tmp_path_factory.mktemp("learning-tools"), log=lambda line: None).start()
    try:
        yield tools
    finally:
        tools.stop()


@pytest.fixture
def tool_secrets(aws: Any, learning_tools: LearningTools) -> LearningTools:
    secrets = aws.client("secretsmanager")
    for logical_id, value in learning_tools.secret_values().items():
        secrets.put_secret_value(SecretId=aws.name(logical_id), SecretString=value)
    learning_tools.standins.faults.clear()
    return learning_tools
