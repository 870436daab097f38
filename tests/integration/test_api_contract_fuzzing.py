"""Contract fuzzing: schemathesis, driven by the document the local stack serves (/_local/openapi.json), sends a
few generated requests to every operation (a demo student's token on the authenticated ones): no 5xx anywhere,
every status and body as the document says (so every 4xx in the one error shape), bounded in time (a fixed seed,
three examples per operation)."""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

# DELETE /me would delete the demo student every other test of the session signs in as.
DESTRUCTIVE = {("DELETE", "/me")}
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


@pytest.fixture(scope="session")
def served_schema(api: Any) -> Any:
    response = api.get("/_local/openapi.json")
    assert response.status_code == 200
    return schemathesis.openapi.from_dict(response.json())


@pytest.fixture(scope="session")
def student_token(login: Any) -> str:
    return str(login("student@coursepay.local")["access_token"])


def _fuzz(operation: Any, mode: GenerationMode, base_url: str, token: str) -> None:
    authenticated = bool(operation.definition.raw.get("security"))
    headers = {"Authorization": f"Bearer {token}"} if authenticated else {}

    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(max_examples=3, derandomize=True, deadline=None, suppress_health_check=list(HealthCheck),
              database=None, phases=[Phase.generate])
    def check(case: Any) -> None:
        case.call_and_validate(base_url=base_url, headers=headers, checks=CHECKS)

    check()


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_no_route_breaks_its_contract(served_schema: Any, api: Any, student_token: str, mode: GenerationMode) -> None:
    failures: list[str] = []
    operations = [result.ok() for result in served_schema.get_all_operations()]
    assert len(operations) > 40
    for operation in operations:
        if (operation.method.upper(), operation.path) in DESTRUCTIVE:
            continue
        try:
            _fuzz(operation, mode, api.base_url, student_token)
        except Unsatisfiable:
            # negative mode on an operation with nothing to get wrong in the document (no body, no query, path
            # parameters that are any non-empty string): no request exists to send
            assert mode is GenerationMode.NEGATIVE, operation.path
        except (Exception, BaseExceptionGroup) as failure:  # collect every route's, not only the first one's
            failures.append(f"{operation.method.upper()} {operation.path}: {failure}")
    assert not failures, "\n\n".join(failures)


def test_the_stack_serves_the_document_with_its_address_and_a_docs_page(api: Any) -> None:
    document = api.get("/_local/openapi.json").json()
    assert document["openapi"] == "3.1.0"
    assert document["servers"] == [{"url": api.base_url, "description": "this local stack"}]
    page = api.get("/_local/docs")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert "/_local/openapi.json" in page.text
    assert "https://" not in page.text  # loads nothing from the network
