"""API Gateway HTTP API (payload 2.0) events for unit tests, as the JWT authorizer would pass them."""

from __future__ import annotations

import json
import re
import time
import uuid
from typing import Any


def http_event(method: str, path: str, *, route: str | None = None, body: Any = None, raw_body: bytes | None = None,
               headers: dict[str, str] | None = None, claims: dict[str, str] | None = None,
               query: dict[str, str] | None = None) -> dict[str, Any]:
    """``route`` is the template's path with ``{params}`` (defaults to ``path``); ``claims`` as API Gateway
    passes them (strings; lists as "[a b]"); ``None`` claims means an unauthenticated route."""
    route = route or path
    names = re.findall(r"{(\w+)\+?}", route)
    pattern = "^" + re.sub(r"{\w+\+?}", "([^/]+)", route) + "$"
    match = re.match(pattern, path)
    path_parameters = dict(zip(names, match.groups(), strict=True)) if match and names else None
    if raw_body is not None:
        text = raw_body.decode()
    elif body is not None:
        text = json.dumps(body)
    else:
        text = None
    request_context: dict[str, Any] = {
        "accountId": "123456789012", "apiId": "local", "domainName": "localhost", "stage": "$default",
        "requestId": uuid.uuid4().hex, "routeKey": f"{method} {route}", "time": "",
        "timeEpoch": int(time.time() * 1000),
        "http": {"method": method, "path": path, "protocol": "HTTP/1.1", "sourceIp": "127.0.0.1",
                 "userAgent": "pytest"},
    }
    if claims is not None:
        request_context["authorizer"] = {"jwt": {"claims": claims, "scopes": None}}
    return {
        "version": "2.0",
        "routeKey": f"{method} {route}",
        "rawPath": path,
        "rawQueryString": "&".join(f"{k}={v}" for k, v in (query or {}).items()),
        "headers": {"content-type": "application/json", **{k.lower(): v for k, v in (headers or {}).items()}},
        "queryStringParameters": query,
        "pathParameters": path_parameters,
        "requestContext": request_context,
        "body": text,
        "isBase64Encoded": False,
    }


def claims_for(user_id: str, *groups: str, email: str | None = None) -> dict[str, str]:
    claims = {"sub": user_id, "token_use": "access", "client_id": "local"}
    if groups:
        claims["cognito:groups"] = "[" + " ".join(groups) + "]"
    if email:
        claims["email"] = email
    return claims


def body_of(response: dict[str, Any]) -> Any:
    return json.loads(response["body"]) if response.get("body") else None
