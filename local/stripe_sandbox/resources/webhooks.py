"""Webhook endpoints API (``/v1/webhook_endpoints``) and the delivery log control routes."""

from __future__ import annotations

import secrets
from typing import Any

from ..app import API_VERSION, Obj, Sandbox
from ..errors import invalid
from ..forms import metadata_update
from ..router import Request, Response, api, control, page
from ..store import new_id
from ._util import nullable_str


def _validate_events(events: list[Any]) -> list[str]:
    if not events:
        raise invalid("enabled_events", "Missing required param: enabled_events.", "parameter_missing")
    result = []
    for i, ev in enumerate(events):
        if not isinstance(ev, str) or not ev or not all(c.isalnum() or c in "._*" for c in ev):
            raise invalid(f"enabled_events[{i}]", f"Invalid enabled_events[{i}]: {ev!r}",
                          "parameter_invalid_string")
        result.append(ev)
    return result


def register_endpoint(app: Sandbox, url: str, events: list[str], secret: str | None = None) -> Obj:
    """Pre-register an endpoint (``--webhook-url``); a restart with a state file re-keys the same endpoint."""
    for existing in app.store.all("webhook_endpoint"):
        if existing["url"] == url and not existing.get("_deleted"):
            if secret:
                existing["secret"] = secret
            existing["enabled_events"] = events
            return existing
    return new_endpoint(app, url, events, secret, "Pre-registered by --webhook-url")


def new_endpoint(app: Sandbox, url: str, events: list[str], secret: str | None,
                 description: str | None) -> Obj:
    endpoint: Obj = {
        "id": new_id("we_"), "object": "webhook_endpoint", "api_version": API_VERSION, "application": None,
        "created": app.now(), "description": description, "enabled_events": events, "livemode": False,
        "metadata": {}, "secret": secret or "whsec_" + secrets.token_hex(16), "status": "enabled", "url": url,
    }
    return app.add(endpoint)


def _render_endpoint(app: Sandbox, endpoint: Obj, with_secret: bool = False) -> Obj:
    out = app.render(endpoint)
    if not with_secret:
        out.pop("secret", None)  # Stripe only returns the secret on creation
    return out


@api("POST", "/v1/webhook_endpoints")
def endpoints_create(req: Request) -> Obj:
    app, p = req.app, req.p
    p.allow("url", "enabled_events", "description", "metadata", "api_version", "connect")
    url = p.req("url")
    if not url.startswith(("http://", "https://")):
        raise invalid("url", "Invalid URL: URL must be publicly accessible and use http or https.", "url_invalid")
    endpoint = new_endpoint(app, url, _validate_events(p.list("enabled_events")), None, p.str("description"))
    endpoint["metadata"] = metadata_update({}, p.raw("metadata"))
    endpoint["_connect"] = bool(p.bool("connect", False))  # events of connected accounts (webhook_delivery)
    if p.str("api_version"):
        endpoint["api_version"] = p.str("api_version")
    return _render_endpoint(app, endpoint, with_secret=True)


@api("GET", "/v1/webhook_endpoints/{id}")
def endpoints_retrieve(req: Request) -> Obj:
    return _render_endpoint(req.app, req.app.get("webhook_endpoint", req.args["id"]))


@api("POST", "/v1/webhook_endpoints/{id}")
def endpoints_update(req: Request) -> Obj:
    app, p = req.app, req.p
    p.allow("url", "enabled_events", "description", "metadata", "disabled")
    endpoint = app.get("webhook_endpoint", req.args["id"])
    if "url" in p:
        endpoint["url"] = p.req("url")
    if "enabled_events" in p:
        endpoint["enabled_events"] = _validate_events(p.list("enabled_events"))
    if "description" in p:
        endpoint["description"] = nullable_str(p.raw("description"), "description")
    if "metadata" in p:
        endpoint["metadata"] = metadata_update(endpoint["metadata"], p.raw("metadata"))
    if "disabled" in p:
        endpoint["status"] = "disabled" if p.bool("disabled") else "enabled"
    return _render_endpoint(app, endpoint)


@api("DELETE", "/v1/webhook_endpoints/{id}")
def endpoints_delete(req: Request) -> Obj:
    app = req.app
    endpoint = app.get("webhook_endpoint", req.args["id"])
    endpoint["_deleted"] = True
    return app.render(endpoint)


@api("GET", "/v1/webhook_endpoints")
def endpoints_list(req: Request) -> Obj:
    app = req.app
    return app.list_response(app.store.all("webhook_endpoint"), req.p, "/v1/webhook_endpoints",
                             render=lambda e: _render_endpoint(app, e))


# ----------------------------------------------------------------------- control: delivery log
@control("GET", "/_sandbox/webhook_endpoints/{id}/deliveries")
def deliveries(req: Request) -> Obj:
    app = req.app
    endpoint = app.get("webhook_endpoint", req.args["id"], allow_deleted=True)
    log = list(app.store.deliveries.get(endpoint["id"], []))
    event_id = req.params.get("event_id")
    if event_id:
        log = [d for d in log if d["event_id"] == event_id]
    return {"object": "list", "endpoint": endpoint["id"], "url": endpoint["url"], "data": log}


@page("GET", "/_sandbox/webhook_endpoints/{id}/deliveries.html")
def deliveries_page(req: Request) -> Response:
    from ..pages import deliveries_html

    endpoint = req.app.get("webhook_endpoint", req.args["id"], allow_deleted=True)
    return deliveries_html(req.app, [endpoint])


@page("GET", "/_sandbox/deliveries")
def all_deliveries_page(req: Request) -> Response:
    from ..pages import deliveries_html

    return deliveries_html(req.app, list(reversed(req.app.store.all("webhook_endpoint"))))
