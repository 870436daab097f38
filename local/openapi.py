"""The HTTP API's OpenAPI 3.1 document, generated: every route and its authorizer from template.yaml, each route's
request body from the pydantic model its handler validates with (the ``parse_json_body(Model, ...)`` call in
``functions/*/app.py``, read from the code, so the document cannot name another model than the one in use), query
models from ``parse_model(Model, ...query...)``, each success response from the handler's ``@responds(View, ...)``
declaration (the same object that serialises and checks what the handler returns), and the one error shape of
``coursepay.api.errors``.

``python -m local.openapi`` (``make openapi``) writes docs/openapi.json; tests/unit/test_openapi.py fails when the
file is stale or when it and the template disagree on the routes."""

from __future__ import annotations

import ast
import importlib
import importlib.util
import json
import re
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import JsonSchemaMode

from coursepay.api.responses import ResponseContract, response_contract
from local.stack.api_docs import DOCUMENT
from local.stack.sam import HttpApiSpec, build_model
from local.stack.template import DEFAULT_TEMPLATE, REPO_ROOT, Resolver, load_template

FUNCTIONS = REPO_ROOT / "functions"
ERROR_STATUSES = {"400": "Bad input; the field at fault is named", "401": "A valid bearer token is required",
                  "403": "Not allowed for this caller", "404": "No such resource or route",
                  "409": "Conflicts with the current state", "429": "This route's rate limit was reached"}
GATEWAY_ANSWERS = {"401": "Unauthorized", "429": "Too Many Requests"}
ERROR_EXAMPLE = {"error": {"code": "invalid_request", "message": "title: this field is required", "field": "title"}}


@dataclass(frozen=True)
class HandlerContract:
    function_dir: str
    name: str  # the handler function's name: the operationId
    summary: str | None
    body_model: type[BaseModel] | None
    query_model: type[BaseModel] | None
    success_statuses: tuple[int, ...]  # the HTTPStatus.<NAME>s the handler answers with (200 when it names none)
    response: ResponseContract | None  # its @responds declaration (None: undeclared, documented without a schema)


def template_api() -> HttpApiSpec:
    template = load_template(DEFAULT_TEMPLATE)
    resolver = Resolver.with_stand_in_ids(template)  # only routes and authorizers are read
    return build_model(template, resolver).http_apis["HttpApi"]


def _imported_names(tree: ast.Module) -> dict[str, str]:
    return {alias.asname or alias.name: f"{node.module}:{alias.name}" for node in tree.body
            if isinstance(node, ast.ImportFrom) and node.module for alias in node.names}


def _model_argument(function: ast.FunctionDef, callee: str) -> str | None:
    for node in ast.walk(function):
        if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == callee and node.args
                and isinstance(node.args[0], ast.Name)):
            return node.args[0].id
    return None


def _resolve(name: str | None, imports: dict[str, str], module_name: str) -> type[BaseModel] | None:
    if name is None:
        return None
    if name in imports:
        module, attribute = imports[name].split(":")
    else:  # defined in the app module itself
        module, attribute = module_name, name
    model = getattr(importlib.import_module(module), attribute)
    return model if isinstance(model, type) and issubclass(model, BaseModel) else None


def handler_contracts() -> Iterator[tuple[str, HandlerContract]]:
    """(route key, contract) for every ``@app.<method>("<path>")`` handler of the functions."""
    for app_file in sorted(FUNCTIONS.glob("*/app.py")):
        tree = ast.parse(app_file.read_text())
        imports = _imported_names(tree)
        module_name = f"_openapi_{app_file.parent.name}"
        if module_name not in sys.modules:  # the app modules share a name ("app"): load each under its own
            spec = importlib.util.spec_from_file_location(module_name, app_file)
            if spec is None or spec.loader is None:
                raise ImportError(f"cannot load {app_file}")
            module = importlib.util.module_from_spec(spec)
            sys.modules[module_name] = module
            spec.loader.exec_module(module)
        module = sys.modules[module_name]
        for node in tree.body:
            if not isinstance(node, ast.FunctionDef):
                continue
            for decorator in node.decorator_list:
                if not (isinstance(decorator, ast.Call) and isinstance(decorator.func, ast.Attribute)
                        and isinstance(decorator.func.value, ast.Name) and decorator.func.value.id == "app"
                        and decorator.args and isinstance(decorator.args[0], ast.Constant)):
                    continue
                path = re.sub(r"<(\w+)>", lambda m: "{" + _camel(m.group(1)) + "}", str(decorator.args[0].value))
                query_name = _model_argument(node, "parse_model")
                response = response_contract(getattr(module, node.name))
                yield f"{decorator.func.attr.upper()} {path}", HandlerContract(
                    function_dir=app_file.parent.name, name=node.name, summary=ast.get_docstring(node),
                    body_model=_resolve(_model_argument(node, "parse_json_body"), imports, module_name),
                    query_model=_resolve(query_name, imports, module_name),
                    success_statuses=tuple(int(status) for status in response.statuses) if response
                    else _success_statuses(node), response=response)


def _success_statuses(function: ast.FunctionDef) -> tuple[int, ...]:
    named = {HTTPStatus[node.attr].value for node in ast.walk(function)
             if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name)
             and node.value.id == "HTTPStatus" and node.attr in HTTPStatus.__members__}
    return tuple(sorted(status for status in named if status < 300)) or (200,)


def _camel(snake: str) -> str:
    head, *rest = snake.split("_")
    return head + "".join(part.title() for part in rest)


def _schema(model: type[BaseModel], components: dict[str, Any], mode: JsonSchemaMode = "validation") -> dict[str, Any]:
    """A $ref to the model's schema in ``components`` (requests: as validated; responses: as serialised)."""
    generic = model.__pydantic_generic_metadata__
    # Page[GigView] -> "GigViewPage": a component name may not hold brackets
    name = f"{generic['args'][0].__name__}{generic['origin'].__name__}" if generic["origin"] else model.__name__
    schema = model.model_json_schema(ref_template="#/components/schemas/{model}", mode=mode)
    schema["title"] = name  # client generators name their classes by the title
    nested_schemas = schema.pop("$defs", {})
    # Two packages may name a model alike (subscriptions' and tracks' CheckoutRequest): the package tells them apart;
    # a model both read and sent may differ in its two modes.
    package = model.__module__.split(".")[1].title()
    for candidate in (name, package + name, package + name + mode.title()):
        if candidate not in components or components[candidate] == {**schema, "title": candidate}:
            name = candidate
            break
    else:
        raise ValueError(f"{model.__module__}.{model.__name__}: no component name left")
    schema["title"] = name
    for nested, nested_schema in nested_schemas.items():
        if components.get(nested, nested_schema) != nested_schema:
            raise ValueError(f"two different models are both named {nested}")
        components[nested] = nested_schema
    components[name] = schema
    return {"$ref": f"#/components/schemas/{name}"}


def _operation(route_key: str, contract: HandlerContract, authorized: bool, components: dict[str, Any],
               parameters: list[str]) -> dict[str, Any]:
    operation: dict[str, Any] = {"operationId": contract.name, "tags": [contract.function_dir]}
    if contract.summary:
        operation["summary"] = contract.summary
    params: list[dict[str, Any]] = [{"name": name, "in": "path", "required": True,
                                     "schema": {"type": "string", "minLength": 1}} for name in parameters]
    if contract.query_model is not None:
        properties = contract.query_model.model_json_schema()["properties"]
        for name, field in contract.query_model.model_fields.items():
            name = field.alias or name  # ?from= is the field from_day: the parameter is the name a client sends
            field_schema = dict(properties[name])
            param = {"name": name, "in": "query", "required": field.is_required()}
            if "description" in field_schema:  # a parameter's description is the parameter's, not its schema's
                param["description"] = field_schema.pop("description")
            params.append({**param, "schema": field_schema})
    if params:
        operation["parameters"] = params
    if contract.body_model is not None:
        operation["requestBody"] = {"required": False, "content": {
            "application/json": {"schema": _schema(contract.body_model, components)}}}
    responses: dict[str, Any] = {}
    model = contract.response.model if contract.response else None
    for status in contract.success_statuses:
        if status == HTTPStatus.NO_CONTENT:
            responses[str(status)] = {"description": HTTPStatus(status).phrase}
            continue
        schema = _schema(model, components, "serialization") if model is not None else {}
        responses[str(status)] = {"description": HTTPStatus(status).phrase,
                                  "content": {"application/json": {"schema": schema}}}
        if contract.response and contract.response.headers:
            responses[str(status)]["headers"] = {name: {"schema": {"type": "string", "const": value}}
                                                 for name, value in contract.response.headers.items()}
    for error_status in ERROR_STATUSES:
        if error_status == "401" and not authorized:
            continue
        responses[error_status] = {"$ref": f"#/components/responses/Error{error_status}"}
    responses["default"] = {"$ref": "#/components/responses/ErrorDefault"}
    operation["responses"] = responses
    operation["security"] = [{"cognitoJwt": []}] if authorized else []
    return operation


def build_document() -> dict[str, Any]:
    api = template_api()
    contracts = dict(handler_contracts())
    components: dict[str, Any] = {"Error": {
        "type": "object", "required": ["error"], "additionalProperties": True,
        "properties": {"error": {"type": "object", "required": ["code", "message", "field"], "properties": {
            "code": {"type": "string"}, "message": {"type": "string"},
            "field": {"type": ["string", "null"]}}}},
        "examples": [ERROR_EXAMPLE]}, "GatewayError": {
        "type": "object", "required": ["message"], "properties": {"message": {"type": "string"}},
        "not": {"required": ["error"]}, "examples": [{"message": "Unauthorized"}]}}
    paths: dict[str, Any] = {}
    for route in sorted(api.routes, key=lambda r: (r.path, r.method)):
        contract = contracts.get(route.route_key)
        if contract is None:
            raise ValueError(f"{route.route_key}: a template route without a handler")
        parameters = re.findall(r"{(\w+)}", route.path)
        paths.setdefault(route.path, {})[route.method.lower()] = _operation(
            route.route_key, contract, route.authorizer is not None, components, parameters)
    responses: dict[str, Any] = {f"Error{status}": {"description": description, "content": {"application/json": {
        "schema": {"$ref": "#/components/schemas/Error"}, "example": ERROR_EXAMPLE}}}
        for status, description in ERROR_STATUSES.items()}
    # API Gateway answers these itself, before any function runs, with its own {"message": ...} body: a missing or
    # invalid token (the JWT authorizer) and a throttled route (deployed; the local stack's 429 carries both shapes).
    either = {"oneOf": [{"$ref": "#/components/schemas/Error"}, {"$ref": "#/components/schemas/GatewayError"}]}
    for status, message in GATEWAY_ANSWERS.items():
        code = "unauthenticated" if status == "401" else "too_many_requests"
        responses[f"Error{status}"]["content"] = {"application/json": {"schema": either, "examples": {
            "ours": {"value": {"error": {"code": code, "message": message, "field": None}}},
            "gateway": {"value": {"message": message}}}}}
    responses["ErrorDefault"] = {"description": "Any other error, in the same shape", "content": {
        "application/json": {"schema": {"$ref": "#/components/schemas/Error"}, "example": ERROR_EXAMPLE}}}
    return {
        "openapi": "3.1.0",
        "info": {"title": "coursepay HTTP API", "version": "1.0.0",
                 "description": "Generated by `make openapi` from template.yaml and the handlers' request models."},
        "paths": paths,
        "components": {"schemas": dict(sorted(components.items())), "responses": responses, "securitySchemes": {
            "cognitoJwt": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT",
                           "description": "A Cognito access token (POST /auth/login)."}}},
    }


def render() -> str:
    return json.dumps(build_document(), indent=2, sort_keys=False) + "\n"


def main() -> None:
    DOCUMENT.write_text(render())
    print(f"wrote {DOCUMENT.relative_to(REPO_ROOT)}")


if __name__ == "__main__":
    main()
