"""template.yaml: each function may touch exactly the resources its environment names.

moto does not enforce IAM, so a missing permission would pass every local test and fail in AWS; and a
permission on a resource the function never names is privilege it does not need. This test ties the two
together: the resources a function's policies grant == the resources its environment variables refer to.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from local.stack.sam import function_properties
from local.stack.template import load_template

TEMPLATE = load_template(Path(__file__).resolve().parents[2] / "template.yaml")
RESOURCES: dict[str, Any] = TEMPLATE["Resources"]
FUNCTIONS = sorted(name for name, resource in RESOURCES.items() if resource["Type"] == "AWS::Serverless::Function")
# Resource types whose access is granted by policy (queues are the event source's own business: SAM adds those).
GOVERNED = {"AWS::DynamoDB::Table", "AWS::SecretsManager::Secret", "AWS::Events::EventBus", "AWS::Cognito::UserPool"}


def referenced(value: Any) -> set[str]:
    """Logical ids a template value refers to (Ref, GetAtt, ${X} and ${X.Attr} in Sub)."""
    found: set[str] = set()
    if isinstance(value, dict):
        for key, inner in value.items():
            if key == "Ref" and isinstance(inner, str):
                found.add(inner)
            elif key == "Fn::GetAtt":
                found.add(inner[0] if isinstance(inner, list) else str(inner).split(".")[0])
            elif key == "Fn::Sub":
                text = inner[0] if isinstance(inner, list) else inner
                found.update(match.split(".")[0] for match in re.findall(r"\$\{([^}!]+)\}", text))
            else:
                found |= referenced(inner)
    elif isinstance(value, list):
        for inner in value:
            found |= referenced(inner)
    return {name for name in found if name in RESOURCES and RESOURCES[name]["Type"] in GOVERNED}


def environment_resources(function: str) -> set[str]:
    variables = (function_properties(TEMPLATE, function).get("Environment") or {}).get("Variables") or {}
    return referenced(list(variables.values()))


def policy_resources(function: str) -> set[str]:
    return referenced(function_properties(TEMPLATE, function).get("Policies") or [])


@pytest.mark.parametrize("function", FUNCTIONS)
def test_policies_grant_exactly_the_resources_the_environment_names(function: str) -> None:
    assert policy_resources(function) == environment_resources(function)


@pytest.mark.parametrize("function", FUNCTIONS)
def test_no_function_gets_wildcard_actions_or_unscoped_table_access(function: str) -> None:
    for policy in function_properties(TEMPLATE, function).get("Policies") or []:
        for statement in policy.get("Statement", []) if isinstance(policy, dict) else []:
            actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
            assert all(not action.endswith(":*") and action != "*" for action in actions), statement
            if any(action.startswith("dynamodb:") for action in actions):
                assert statement["Resource"] != "*", statement


def test_the_audit_trail_is_append_only_for_every_function() -> None:
    for function in FUNCTIONS:
        for policy in function_properties(TEMPLATE, function).get("Policies") or []:
            if isinstance(policy, dict) and "Statement" not in policy:
                assert "AuditTable" not in referenced(policy), f"{function}: a SAM policy template on AuditTable"
            for statement in policy.get("Statement", []) if isinstance(policy, dict) else []:
                if "AuditTable" in referenced(statement.get("Resource")):
                    assert statement["Action"] == ["dynamodb:PutItem"], (function, statement)
