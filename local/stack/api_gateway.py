"""API Gateway HTTP API, locally: routing, the JWT authorizer, payload format 2.0 events and responses, CORS.

Everything here follows API Gateway's documented behaviour for HTTP APIs ("Working with AWS Lambda proxy
integrations for HTTP APIs", "Working with routes", "Configuring CORS"): the most specific route wins,
``{proxy+}`` is greedy and least specific, no route gives 404 ``{"message":"Not Found"}``, a failed
authorization 401 ``{"message":"Unauthorized"}``, a failed invocation 500 ``{"message":"Internal Server
Error"}``, a throttled route 429 (``local.stack.throttling``). The request body reaches the function
byte-exact (base64 when it is not text).
"""

from __future__ import annotations

import base64
import json
import secrets
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

from local.stack.jwt_authorizer import Forbidden, JwtAuthorizer, Unauthorized, claims_for_event
from local.stack.lambda_runtime import Invocation
from local.stack.sam import CorsSpec, HttpApiSpec, HttpRoute
from local.stack.throttling import RouteThrottle

MAX_BODY_BYTES = 10 * 1024 * 1024  # HTTP API's payload limit
# API Gateway's own 429 body is {"message": "Too Many Requests"}; the local one carries that and the project's error
# shape, so that clients written against either keep working.
TOO_MANY_REQUESTS = {"message": "Too Many Requests",
                     "error": {"code": "too_many_requests", "message": "this route's rate limit was reached; retry "
                               "after a short wait", "field": None}}
_TEXT_TYPES = ("application/json", "application/xml", "application/javascript", "application/graphql")


@dataclass
class HttpRequest:
    method: str
    target: str  # path + "?" + query, as sent
    headers: list[tuple[str, str]]
    body: bytes = b""
    source_ip: str = "127.0.0.1"
    protocol: str = "HTTP/1.1"

    def header(self, name: str) -> str | None:
        name = name.lower()
        return next((value for key, value in self.headers if key.lower() == name), None)


@dataclass
class HttpResponse:
    status: int
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""

    @classmethod
    def json(cls, status: int, data: Any) -> HttpResponse:
        return cls(status, [("content-type", "application/json")], json.dumps(data).encode())


# ---------------------------------------------------------------------------------------------- routing


@dataclass(frozen=True)
class RouteMatch:
    route: HttpRoute
    path_parameters: dict[str, str]


def _match_path(template: str, segments: list[str]) -> dict[str, str] | None:
    parts = template.strip("/").split("/") if template.strip("/") else []
    parameters: dict[str, str] = {}
    for index, part in enumerate(parts):
        if part.startswith("{") and part.endswith("+}"):
            rest = segments[index:]
            if index != len(parts) - 1 or not rest or not any(rest):
                return None
            parameters[part[1:-2]] = unquote("/".join(rest))
            return parameters
        if index >= len(segments):
            return None
        segment = unquote(segments[index])
        if part.startswith("{") and part.endswith("}"):
            if not segment:
                return None
            parameters[part[1:-1]] = segment
        elif part != segment:
            return None
    return parameters if len(parts) == len(segments) else None


def _specificity(route: HttpRoute) -> tuple[int, tuple[int, ...], int]:
    parts = route.path.strip("/").split("/")
    greedy = parts[-1].endswith("+}")
    literals = tuple(0 if part.startswith("{") else 1 for part in parts if not part.endswith("+}"))
    return (0 if greedy else 1, literals, 0 if route.method == "ANY" else 1)


class Router:
    def __init__(self, routes: tuple[HttpRoute, ...] | list[HttpRoute]) -> None:
        self.routes = list(routes)
        self.default = next((route for route in self.routes if route.path == "$default"), None)

    def match(self, method: str, raw_path: str) -> RouteMatch | None:
        segments = raw_path.strip("/").split("/") if raw_path.strip("/") else []
        candidates: list[RouteMatch] = []
        for route in self.routes:
            if route.path == "$default" or route.method not in (method.upper(), "ANY"):
                continue
            parameters = _match_path(route.path, segments)
            if parameters is not None:
                candidates.append(RouteMatch(route, parameters))
        if candidates:
            return max(candidates, key=lambda candidate: _specificity(candidate.route))
        return RouteMatch(self.default, {}) if self.default else None


# ---------------------------------------------------------------------------------------------- events


def is_text(content_type: str | None) -> bool:
    if not content_type:
        return False
    media = content_type.split(";", 1)[0].strip().lower()
    return media.startswith("text/") or media in _TEXT_TYPES or media.endswith(("+json", "+xml"))


def build_event(
    request: HttpRequest,
    match: RouteMatch,
    *,
    api_id: str,
    account_id: str,
    request_id: str,
    claims: Mapping[str, Any] | None = None,
    scopes: list[str] | None = None,
    now: float | None = None,
) -> dict[str, Any]:
    """The payload format 2.0 event API Gateway sends to a Lambda integration."""
    now = time.time() if now is None else now
    target = urlsplit(request.target)
    raw_path, raw_query = target.path or "/", target.query
    headers: dict[str, str] = {}
    cookies: list[str] = []
    for name, value in request.headers:
        key = name.lower()
        if key == "cookie":
            cookies.extend(part.strip() for part in value.split(";") if part.strip())
            continue
        headers[key] = f"{headers[key]},{value}" if key in headers else value
    headers.setdefault("x-forwarded-for", request.source_ip)
    headers.setdefault("x-forwarded-proto", "http")
    host = headers.get("host", "localhost")
    headers.setdefault("x-forwarded-port", host.rsplit(":", 1)[1] if ":" in host else "80")
    headers.setdefault("x-amzn-trace-id", f"Root=1-{int(now):08x}-{secrets.token_hex(12)}")

    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": match.route.route_key,
        "rawPath": raw_path,
        "rawQueryString": raw_query,
    }
    if cookies:
        event["cookies"] = cookies
    event["headers"] = headers
    if raw_query:
        query: dict[str, str] = {}
        for key, value in parse_qsl(raw_query, keep_blank_values=True):
            query[key] = f"{query[key]},{value}" if key in query else value
        event["queryStringParameters"] = query
    request_context: dict[str, Any] = {
        "accountId": account_id,
        "apiId": api_id,
        "domainName": host,
        "domainPrefix": host.split(".", 1)[0].split(":", 1)[0],
        "http": {
            "method": request.method.upper(),
            "path": raw_path,
            "protocol": request.protocol,
            "sourceIp": request.source_ip,
            "userAgent": headers.get("user-agent", ""),
        },
        "requestId": request_id,
        "routeKey": match.route.route_key,
        "stage": "$default",
        "time": time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(now)),
        "timeEpoch": int(now * 1000),
    }
    if claims is not None:
        request_context["authorizer"] = {"jwt": {"claims": claims_for_event(claims), "scopes": scopes}}
    event["requestContext"] = request_context
    if match.path_parameters:
        event["pathParameters"] = match.path_parameters
    if request.body:
        text = None
        if is_text(headers.get("content-type")):
            try:
                text = request.body.decode("utf-8")
            except UnicodeDecodeError:
                text = None
        event["body"] = text if text is not None else base64.b64encode(request.body).decode("ascii")
        event["isBase64Encoded"] = text is None
    else:
        event["isBase64Encoded"] = False
    return event


def response_from_result(result: Any) -> HttpResponse:
    """Map a function's result to the HTTP response, including API Gateway's format inference."""
    if not (isinstance(result, dict) and "statusCode" in result):
        # No statusCode: the whole result is the body of a 200 JSON response.
        text = result if isinstance(result, str) else json.dumps(result)
        return HttpResponse(200, [("content-type", "application/json")], text.encode())
    try:
        status = int(result["statusCode"])
    except (TypeError, ValueError):
        return HttpResponse.json(500, {"message": "Internal Server Error"})
    headers: list[tuple[str, str]] = []
    for name, values in (result.get("multiValueHeaders") or {}).items():
        headers.extend((name.lower(), str(value)) for value in values)
    single = {name.lower(): str(value) for name, value in (result.get("headers") or {}).items()}
    headers = [(name, value) for name, value in headers if name not in single] + list(single.items())
    headers.extend(("set-cookie", str(cookie)) for cookie in result.get("cookies") or [])
    body = result.get("body")
    if body is None:
        payload = b""
    elif result.get("isBase64Encoded"):
        payload = base64.b64decode(str(body))
    else:
        payload = (body if isinstance(body, str) else json.dumps(body)).encode()
    return HttpResponse(status, headers, payload)


# ---------------------------------------------------------------------------------------------- CORS


def _allowed_origin(cors: CorsSpec, origin: str | None) -> str | None:
    if not origin:
        return None
    if "*" in cors.allow_origins:
        return origin if cors.allow_credentials else "*"
    return origin if origin.rstrip("/") in cors.allow_origins else None


def preflight_response(cors: CorsSpec, request: HttpRequest) -> HttpResponse:
    response = HttpResponse(204)
    origin = _allowed_origin(cors, request.header("origin"))
    if origin is None:
        return response
    asked_method = (request.header("access-control-request-method") or "").upper()
    if "*" not in cors.allow_methods and asked_method not in cors.allow_methods:
        return response
    response.headers.append(("access-control-allow-origin", origin))
    response.headers.append(("access-control-allow-methods", ",".join(cors.allow_methods)))
    asked_headers = request.header("access-control-request-headers")
    if cors.allow_headers and "*" in cors.allow_headers and asked_headers:
        response.headers.append(("access-control-allow-headers", asked_headers))
    elif cors.allow_headers:
        response.headers.append(("access-control-allow-headers", ",".join(cors.allow_headers)))
    if cors.allow_credentials:
        response.headers.append(("access-control-allow-credentials", "true"))
    if cors.max_age is not None:
        response.headers.append(("access-control-max-age", str(cors.max_age)))
    return response


def add_cors_headers(cors: CorsSpec, request: HttpRequest, response: HttpResponse) -> None:
    origin = _allowed_origin(cors, request.header("origin"))
    if origin is None:
        return
    response.headers.append(("access-control-allow-origin", origin))
    if cors.allow_credentials:
        response.headers.append(("access-control-allow-credentials", "true"))
    if cors.expose_headers:
        response.headers.append(("access-control-expose-headers", ",".join(cors.expose_headers)))


# ---------------------------------------------------------------------------------------------- gateway

LocalRoute = Callable[[HttpRequest], HttpResponse]
LocalAction = Callable[[HttpRequest, dict[str, str]], HttpResponse]  # (request, path parameters)
Invoker = Callable[[str, dict[str, Any]], Invocation]


class ApiGateway:
    """Turns HTTP requests into function invocations for one HTTP API of the template."""

    def __init__(
        self,
        api: HttpApiSpec,
        invoke: Invoker,
        authorizers: Mapping[str, JwtAuthorizer],
        *,
        account_id: str,
        log: Callable[[str], None],
        local_routes: Mapping[str, LocalRoute] | None = None,
        local_actions: Mapping[str, LocalAction] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.api = api
        self.router = Router(api.routes)
        self._throttle = RouteThrottle(api.throttle, clock)
        self._invoke = invoke
        self._authorizers = authorizers
        self._account_id = account_id
        self._log = log
        # Extras of the local stack (outbox, health) live under /_local/ and never shadow template routes.
        self._local_routes = dict(local_routes or {})
        # POST control routes of the local stack, keyed by path template ("/_local/schedules/{function}/run").
        self._local_actions = dict(local_actions or {})

    def handle(self, request: HttpRequest) -> HttpResponse:
        request_id = base64.b64encode(secrets.token_bytes(10)).decode()
        response = self._handle(request, request_id)
        response.headers.append(("apigw-requestid", request_id))
        already = any(name == "access-control-allow-origin" for name, _ in response.headers)  # a preflight
        if self.api.cors is not None and not already:
            add_cors_headers(self.api.cors, request, response)
        return response

    def _handle(self, request: HttpRequest, request_id: str) -> HttpResponse:
        path = urlsplit(request.target).path or "/"
        local = self._local_routes.get(path)
        if local is not None and request.method in ("GET", "HEAD"):
            return local(request)
        method = request.method.upper()
        if method == "POST" and path.startswith("/_local/"):
            segments = path.strip("/").split("/")
            for template, action in self._local_actions.items():
                parameters = _match_path(template, segments)
                if parameters is not None:
                    return action(request, parameters)
        cors = self.api.cors
        if cors is not None and method == "OPTIONS" and request.header("access-control-request-method"):
            return preflight_response(cors, request)  # API Gateway answers preflights itself
        match = self.router.match(method, path)
        if match is None:
            return HttpResponse.json(404, {"message": "Not Found"})
        route = match.route
        if not self._throttle.admit(route.route_key):
            self._log(f"[api] {route.route_key}: 429 (throttled)")
            return HttpResponse.json(429, TOO_MANY_REQUESTS)
        claims = None
        scopes = None
        if route.authorizer is not None:
            authorizer = self._authorizers[route.authorizer.name]
            headers = {name.lower(): value for name, value in request.headers}
            try:
                claims = authorizer.authorize(headers, route.scopes)
            except Unauthorized as reason:
                self._log(f"[api] {route.route_key}: 401 ({reason})")
                return HttpResponse.json(401, {"message": "Unauthorized"})
            except Forbidden as reason:
                self._log(f"[api] {route.route_key}: 403 ({reason})")
                return HttpResponse.json(403, {"message": "Forbidden"})
            if route.scopes:
                scopes = [scope for scope in str(claims.get("scope", "")).split() if scope in route.scopes]
        event = build_event(
            request, match, api_id=self.api.api_id, account_id=self._account_id,
            request_id=request_id, claims=claims, scopes=scopes,
        )  # fmt: skip
        try:
            invocation = self._invoke(route.function, event)
        except Exception as error:  # the stack is stopping, or a worker failed to start
            self._log(f"[api] {route.route_key}: invocation failed: {error!r}")
            return HttpResponse.json(500, {"message": "Internal Server Error"})
        if not invocation.ok:
            # A function error, timeouts included (Lambda's timeout is below the integration's 30 s): 500.
            return HttpResponse.json(500, {"message": "Internal Server Error"})
        return response_from_result(invocation.payload)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    timeout = 300  # idle keep-alive connections close eventually (and their threads end)
    server: _Server

    def _serve(self) -> None:
        try:
            body = self._read_body()
        except ValueError:
            self._send(HttpResponse.json(413, {"message": "Request Entity Too Large"}))
            return
        started = time.perf_counter()
        request = HttpRequest(
            method=self.command,
            target=self.path,
            headers=list(self.headers.items()),
            body=body,
            source_ip=self.client_address[0],
            protocol=self.request_version,
        )
        response = self.server.gateway.handle(request)
        self._send(response)
        elapsed_ms = (time.perf_counter() - started) * 1000
        self.server.log(f"[api] {self.command} {self.path} -> {response.status} ({elapsed_ms:.0f} ms)")

    def _read_body(self) -> bytes:
        if "chunked" in (self.headers.get("transfer-encoding") or "").lower():
            chunks = bytearray()
            while True:
                size = int(self.rfile.readline().split(b";", 1)[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return bytes(chunks)
                chunks += self.rfile.read(size)
                self.rfile.readline()
                if len(chunks) > MAX_BODY_BYTES:
                    raise ValueError("body too large")
        length = int(self.headers.get("content-length") or 0)
        if length > MAX_BODY_BYTES:
            raise ValueError("body too large")
        return self.rfile.read(length) if length else b""

    def _send(self, response: HttpResponse) -> None:
        self.send_response_only(response.status)
        names = {name.lower() for name, _ in response.headers}
        for name, value in response.headers:
            if name.lower() not in ("content-length", "connection", "transfer-encoding"):
                self.send_header(name, value)
        if "date" not in names:
            self.send_header("date", formatdate(usegmt=True))
        self.send_header("content-length", str(len(response.body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(response.body)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_OPTIONS = do_HEAD = _serve

    def log_message(self, format: str, *args: Any) -> None:
        self.server.log(f"[api] {self.address_string()} {format % args}")


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    gateway: ApiGateway

    def __init__(self, address: tuple[str, int], log: Callable[[str], None]) -> None:
        self.log = log
        super().__init__(address, _Handler)


class ApiServer:
    """The HTTP listener. Binds at construction (so the port is known before the gateway is built)."""

    def __init__(self, host: str, port: int, log: Callable[[str], None]) -> None:
        self._server = _Server((host, port), log)
        self.port = int(self._server.server_address[1])
        self.url = f"http://{host}:{self.port}"
        self._thread: threading.Thread | None = None

    def start(self, gateway: ApiGateway) -> None:
        self._server.gateway = gateway
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.2},
                                        name="api-gateway", daemon=True)  # fmt: skip
        self._thread.start()

    def stop(self) -> None:
        if self._thread is not None:
            self._server.shutdown()
            self._thread.join(timeout=5)
        self._server.server_close()
