"""The OpenAPI document (docs/openapi.json): fresh (what `make openapi` writes now), covering exactly the template's
routes, each request body the model its handler validates with, and valid OpenAPI 3.1."""

from __future__ import annotations

import json

from coursepay.accounts.models import RegisterRequest
from coursepay.subscriptions.models import CancelRequest
from local.openapi import DOCUMENT, build_document, render, template_api


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
