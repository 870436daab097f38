"""HTTP transport, authentication, idempotency and routing; :class:`SandboxServer` for tests."""

from __future__ import annotations

import base64
import json
import logging
import threading
import time
import traceback
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from . import connect_pages, pages, portal_page, resources, save_card_page  # noqa: F401  (importing registers the routes)
from .app import API_VERSION, SWEEPERS, Sandbox, dumps
from .errors import StripeError, api_key_error
from .forms import decode_form, decode_query
from .resources.connect_accounts import acting_account
from .router import PUBLISHABLE, ROUTER, Request, Response
from .store import Store, new_id
from .webhook_delivery import WebhookDelivery

log = logging.getLogger("stripe_sandbox")

VALID_KEY_PREFIXES = ("sk_test_", "rk_test_", "pk_test_")
PUBLISHABLE_KEY_ERROR = ("This API call cannot be made with a publishable API key. Please use a secret API key. You "
                         "can find a list of your API keys at https://dashboard.stripe.com/account/apikeys.")
# Stripe's API answers browsers on any origin; Stripe.js posts forms, which need no preflight
CORS_HEADERS = {"Access-Control-Allow-Origin": "*"}
PREFLIGHT_HEADERS = {**CORS_HEADERS, "Access-Control-Allow-Methods": "GET, POST, DELETE",
                     "Access-Control-Allow-Headers": "Authorization, Content-Type, Idempotency-Key, Stripe-Version, "
                                                     "Stripe-Account",
                     "Access-Control-Max-Age": "300"}


def _json_response(status: int, data: Any, headers: dict[str, str] | None = None) -> Response:
    return Response(status, dumps(data), headers=dict(headers or {}))


def _redact(key: str) -> str:
    if len(key) <= 12:
        return key[:3] + "*" * max(0, len(key) - 3)
    return key[:8] + "*" * (len(key) - 12) + key[-4:]


def _api_key(headers: dict[str, str], params: dict[str, Any]) -> str:
    auth = headers.get("authorization", "")
    key = ""
    if not auth and str(params.get("key", "")).startswith("pk_"):
        key = str(params.pop("key"))  # Stripe.js sends the publishable key as a form field, not a header
    if auth.lower().startswith("bearer "):
        key = auth[7:].strip()
    elif auth.lower().startswith("basic "):
        try:
            key = base64.b64decode(auth[6:].strip()).decode("utf-8").split(":", 1)[0]
        except (ValueError, UnicodeDecodeError):
            key = ""
    if not key:
        raise api_key_error(
            "You did not provide an API key. You need to provide your API key in the Authorization "
            "header, using Bearer auth (e.g. 'Authorization: Bearer YOUR_SECRET_KEY'). See "
            "https://stripe.com/docs/api#authentication for details, or we can help at "
            "https://support.stripe.com/."
        )
    if not key.startswith(VALID_KEY_PREFIXES) or len(key) < 9:
        raise api_key_error(f"Invalid API Key provided: {_redact(key)}")
    return key


def handle_request(app: Sandbox, method: str, target: str, headers: dict[str, str], body: bytes) -> Response:
    """Everything between the socket and a resource handler."""
    headers = {k.lower(): v for k, v in headers.items()}
    parts = urlsplit(target)
    path = parts.path.rstrip("/") or "/"
    request_id = new_id("req_", 14)
    base_headers = {"Request-Id": request_id}
    if method == "OPTIONS" and path.startswith("/v1/"):
        return Response(204, b"", "text/plain", {**base_headers, **PREFLIGHT_HEADERS})
    route, args, other_method = ROUTER.match(method, path)
    if route is None:
        if path.startswith("/v1/"):
            status = 405 if other_method else 404
            err = StripeError(status, f"Unrecognized request URL ({method}: {path}). Please see "
                              "https://stripe.com/docs or we can help at https://support.stripe.com/.")
            return _json_response(status, err.body(), base_headers)
        return Response(404, b"Not found", "text/plain", base_headers)

    if route.kind == "api":
        return _handle_api(app, route.handler, method, path, parts.query, args, headers, body, request_id)

    req = Request(app, method, path, decode_query(parts.query), args, headers, request_id=request_id)
    if route.kind in ("control", "unlocked"):
        if body.strip():
            try:
                req.json = json.loads(body)
            except json.JSONDecodeError:
                return _json_response(400, {"error": {"message": "Body must be JSON."}}, base_headers)
        else:
            req.json = {}
    else:  # page: HTML form posts
        if method == "POST":
            req.params.update(decode_form(body))
    try:
        result = route.handler(req) if route.kind == "unlocked" else _locked(app, route.handler, req, method)
    except StripeError as err:
        return _json_response(err.status, err.body(), base_headers)
    if isinstance(result, Response):
        result.headers = {**base_headers, **result.headers}
        return result
    return _json_response(200, result, base_headers)


def _locked(app: Sandbox, handler: Any, req: Request, method: str) -> Any:
    with app.lock:
        app.current_request_id = None
        app.current_idempotency_key = None
        try:
            return handler(req)
        finally:
            if method in ("POST", "DELETE"):
                app.store.save()


def _handle_api(app: Sandbox, handler: Any, method: str, path: str, query: str, args: dict[str, str],
                headers: dict[str, str], body: bytes, request_id: str) -> Response:
    out_headers = {"Request-Id": request_id, "Stripe-Version": API_VERSION, **CORS_HEADERS}
    try:
        params = decode_query(query)
        if method == "POST" and body:
            params.update(decode_form(body))
        api_key = _api_key(headers, params)
        if api_key.startswith("pk_") and handler not in PUBLISHABLE:
            raise api_key_error(PUBLISHABLE_KEY_ERROR)
    except StripeError as err:
        return _json_response(err.status, err.body(), out_headers)

    idem_key = headers.get("idempotency-key") if method == "POST" else None
    fingerprint = json.dumps([method, path, params], sort_keys=True)
    stripe_account = headers.get("stripe-account") or None  # Connect: act as this connected account
    store_key = f"{api_key}:{stripe_account}:{idem_key}" if stripe_account else f"{api_key}:{idem_key}"
    if idem_key:
        out_headers["Idempotency-Key"] = idem_key
    with app.lock:
        if idem_key:
            if len(idem_key) > 255:
                too_long = StripeError(400, "Idempotency-Key must be at most 255 characters.",
                                       type="idempotency_error")
                return _json_response(400, too_long.body(), out_headers)
            saved = app.store.idem_get(store_key)
            if saved is not None:
                if saved["fingerprint"] != fingerprint:
                    mismatch = StripeError(
                        400,
                        "Keys for idempotent requests can only be used with the same parameters they "
                        f"were first used with. Try using a key other than '{idem_key}' if you meant "
                        "to execute a different request.",
                        type="idempotency_error",
                    )
                    return _json_response(400, mismatch.body(), out_headers)
                out_headers["Idempotent-Replayed"] = "true"
                return Response(saved["status"], saved["body"].encode("utf-8"), headers=out_headers)
        app.current_request_id = request_id
        app.current_idempotency_key = idem_key
        req = Request(app, method, path, params, args, headers, api_key=api_key,
                      idempotency_key=idem_key, request_id=request_id)
        status = 200
        try:
            expire_due(app)
            app.store.account = acting_account(app, stripe_account)
            data = handler(req)
            expand = req.p.list("expand")
            if expand:
                app.expand(data, expand)
            payload = dumps(data)
        except StripeError as err:
            status, payload = err.status, dumps(err.body())
        except Exception:
            log.error("sandbox handler crashed:\n%s", traceback.format_exc())
            crash = StripeError(500, "An unknown error occurred in the Stripe sandbox.", type="api_error")
            out_headers["Stripe-Should-Retry"] = "false"
            return _json_response(500, crash.body(), out_headers)
        finally:
            app.store.account = None
            app.current_request_id = None
            app.current_idempotency_key = None
        if idem_key:
            app.store.idem_put(store_key, fingerprint, status, payload)
        if method in ("POST", "DELETE"):
            app.store.save()
    return Response(status, payload, headers=out_headers)


def expire_due(app: Sandbox) -> None:
    """Lazily apply what time did since the last request (expired Checkout Sessions, lapsed authorizations)."""
    for sweep in SWEEPERS:
        sweep(app)


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    sandbox: Sandbox
    verbose: bool = False


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    timeout = 120
    server: _HTTPServer

    def _handle(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        started = time.monotonic()
        resp = handle_request(self.server.sandbox, self.command, self.path, dict(self.headers.items()), body)
        self.send_response(resp.status)
        content_type = resp.content_type
        if content_type in ("text/html", "text/plain", "application/json"):
            content_type += "; charset=utf-8"
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(resp.body)))
        for name, value in resp.headers.items():
            self.send_header(name, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(resp.body)
        if self.server.verbose:
            log.info("%s %s -> %s (%.1f ms)", self.command, self.path, resp.status,
                     (time.monotonic() - started) * 1000)

    do_GET = do_POST = do_DELETE = do_OPTIONS = _handle

    def log_message(self, format: str, *args: Any) -> None:
        pass


class SandboxServer:
    """The Stripe sandbox as an in-process server.

    >>> s = SandboxServer(host="127.0.0.1", port=0).start()
    >>> s.url   # e.g. "http://127.0.0.1:54321"
    >>> s.stop()
    """

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        state_file: str | Path | None = None,
        webhook_url: str | None = None,
        webhook_secret: str | None = None,
        webhook_events: list[str] | None = None,
        retry_delays: list[float] | None = None,
        delivery_timeout: float = 5.0,
        public_url: str | None = None,
        verbose: bool = False,
    ) -> None:
        self.store = Store(state_file)
        self.delivery = WebhookDelivery(self.store, retry_delays, delivery_timeout)
        self.sandbox = Sandbox(self.store, self.delivery)
        self._httpd = _HTTPServer((host, port), _Handler)
        self._httpd.sandbox = self.sandbox
        self._httpd.verbose = verbose
        bound_host, bound_port = self._httpd.server_address[:2]
        self.host, self.port = str(bound_host), int(bound_port)
        self.url = (public_url or f"http://{self.host}:{self.port}").rstrip("/")
        self.sandbox.base_url = self.url
        self._thread: threading.Thread | None = None
        self._serving = False
        if webhook_url:
            from .resources.webhooks import register_endpoint

            with self.store.lock:
                self.preregistered_endpoint = register_endpoint(
                    self.sandbox, webhook_url, webhook_events or ["*"], webhook_secret)
                self.store.save()

    def start(self) -> SandboxServer:
        self._serving = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.1},
                                        daemon=True, name="stripe-sandbox")
        self._thread.start()
        return self

    def serve_forever(self) -> None:
        self._serving = True
        self._httpd.serve_forever(poll_interval=0.2)

    def stop(self) -> None:
        self.delivery.stop()
        if self._serving:
            self._httpd.shutdown()
            self._serving = False
        self._httpd.server_close()
        if self._thread:
            self._thread.join(timeout=5)
        self.store.save()

    def __enter__(self) -> SandboxServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
