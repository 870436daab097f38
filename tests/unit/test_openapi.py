"""The OpenAPI document (docs/openapi.json): fresh (what `make openapi` writes now), covering exactly the template's
routes, each request body the model its handler validates with, each success response the view its handler
declares with ``@responds`` (the one that sends it), and valid OpenAPI 3.1."""

from __future__ import annotations

import json
from typing import Any

from pydantic import RootModel

from coursepay.accounts.models import RegisterRequest
from coursepay.subscriptions.models import CancelRequest
from local.openapi import DOCUMENT, build_document, handler_contracts, render, template_api


def test_the_committed_document_is_what_make_openapi_writes_now() -> None:
    assert DOCUMENT.read_text() == render(), "docs/openapi.json is stale: run `make openapi`"


def test_the_document_and_the_template_have_the_same_routes() -> None:
    document = json.loads(DOCUMENT.read_text())
    documented = {f"{method.upper()} {path}" for path, operations in document["paths"].items()
                  for method in operations}
    assert documented == {route.route_key for route in template_api().routes}


def test_operations_carry_the_handlers_models_auth_and_the_error_shape() -> None:
    document = build_document()
    register = document["paths"]["/auth/register"]["post"]
    assert register["requestBody"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/RegisterRequest"}
    assert document["components"]["schemas"]["RegisterRequest"] == RegisterRequest.model_json_schema()
    assert "201" in register["responses"]
    assert register["security"] == []  # anonymous in the template
    cancel = document["paths"]["/subscriptions/{subscriptionId}/cancel"]["post"]
    assert document["components"]["schemas"]["CancelRequest"] == CancelRequest.model_json_schema()
    assert cancel["security"] == [{"cognitoJwt": []}]
    assert cancel["responses"]["401"] == {"$ref": "#/components/responses/Error401"}
    assert cancel["parameters"][0]["name"] == "subscriptionId"
    assert document["paths"]["/me"]["delete"]["responses"]["204"] == {"description": "No Content"}
    responses = document["components"]["responses"]
    # the functions' errors are only ever our shape; API Gateway's own {"message"} only where it answers itself
    assert responses["Error400"]["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/Error"}
    assert "oneOf" in responses["Error401"]["content"]["application/json"]["schema"]
    error = document["components"]["schemas"]["Error"]
    assert error["properties"]["error"]["required"] == ["code", "message", "field"]
    # the two CheckoutRequest models (courses and tracks) stay apart
    track_checkout = document["paths"]["/tracks/{trackId}/checkout"]["post"]["requestBody"]
    assert track_checkout["content"]["application/json"]["schema"]["$ref"].endswith("/TracksCheckoutRequest")


def test_the_document_is_valid_openapi_3_1() -> None:
    from openapi_spec_validator import validate

    validate(build_document())


def test_every_success_response_is_the_view_its_handler_declares() -> None:
    document = build_document()
    contracts = dict(handler_contracts())
    schemas = document["components"]["schemas"]
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            route = f"{method.upper()} {path}"
            declared = contracts[route].response
            assert declared is not None, f"{route}: its handler has no @responds declaration"
            successes = {int(status): answer for status, answer in operation["responses"].items()
                         if status.startswith("2")}
            assert set(successes) == set(declared.statuses), route
            for answer in successes.values():
                if declared.model is None:
                    assert "content" not in answer, route
                    continue
                ref = answer["content"]["application/json"]["schema"]["$ref"]
                component = schemas[ref.removeprefix("#/components/schemas/")]
                if issubclass(declared.model, RootModel):  # one of several views (a booking's payment)
                    assert len(component["anyOf"]) > 1, route
                else:
                    assert list(component["properties"]) == list(declared.model.model_fields), route


def test_views_leave_internals_out_and_lists_share_one_page_shape() -> None:
    document = build_document()
    schemas = document["components"]["schemas"]

    def sent(path: str, method: str = "get", status: str = "200") -> dict[str, Any]:
        ref = document["paths"][path][method]["responses"][status]["content"]["application/json"]["schema"]["$ref"]
        return dict(schemas[ref.removeprefix("#/components/schemas/")])

    public_gig, own_gig = sent("/gigs/{gigId}"), sent("/teacher/gigs/{gigId}")
    assert "version" not in public_gig["properties"]
    assert "version" in own_gig["properties"]  # the teacher's PATCH names the version it read
    assert "state_at" not in sent("/teacher/payouts")["properties"]
    assert "attempt" not in sent("/payments/{paymentId}/refund-requests", "post", "201")["properties"]
    assert public_gig["additionalProperties"] is False  # a view is exactly its fields
    for path in ("/gigs", "/courses", "/tracks", "/payments", "/subscriptions", "/me/refund-requests"):
        page = sent(path)
        assert list(page["properties"]) == ["items", "next_cursor"], path
        assert page["title"].endswith("Page"), path
        assert "$ref" in page["properties"]["items"]["items"], path
    verify = document["paths"]["/checkout/sessions/{sessionId}/verify"]["get"]["responses"]
    assert verify["200"]["content"] == verify["202"]["content"]  # processing and ready: one view
    tools = document["paths"]["/me/tracks/{trackId}/tools"]["get"]["responses"]["200"]
    assert tools["headers"]["Cache-Control"]["schema"]["const"] == "no-store"


def test_the_views_examples_are_views() -> None:
    models = {contract.response.model for _, contract in handler_contracts()
              if contract.response is not None and contract.response.model is not None}
    examples = [(model, example) for model in models
                for example in model.model_json_schema(mode="serialization").get("examples", [])]
    assert len(examples) >= 5
    for model, example in examples:
        assert model.model_validate(example).model_dump(mode="json") == example, model.__name__
