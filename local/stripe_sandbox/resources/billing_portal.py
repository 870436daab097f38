"""The customer portal: ``/v1/billing_portal/configurations`` and ``/v1/billing_portal/sessions``.

A session's ``url`` opens the sandbox's hosted portal page (``portal_page.py``). Supported features:
``invoice_history``, ``payment_method_update`` and ``subscription_cancel`` (``mode`` immediately / at_period_end,
``proration_behavior`` none / create_prorations, ``cancellation_reason``). ``customer_update``,
``subscription_update`` and ``subscription_pause`` are rendered disabled and refused as parameters.

Like Stripe, a session without ``configuration`` uses the account's default configuration, which on Stripe is
saved in the Dashboard; here ``POST /_sandbox/billing_portal/default_configuration`` stands in for that.
"""

from __future__ import annotations

from typing import Any

from ..app import Obj, Sandbox
from ..errors import StripeError, invalid
from ..forms import Params, metadata_update
from ..router import Request, api, control, retrieve_route
from ..store import new_id
from ._util import nullable_str, update_with_event
from .checkout import URL_RE

CANCEL_MODES = ("at_period_end", "immediately")
CANCEL_PRORATIONS = ("none", "create_prorations")
CANCELLATION_REASONS = ("customer_service", "low_quality", "missing_features", "other", "switched_service",
                        "too_complex", "too_expensive", "unused")
DISABLED_FEATURES: Obj = {
    "customer_update": {"allowed_updates": [], "enabled": False},
    "subscription_update": {"billing_cycle_anchor": None, "default_allowed_updates": [], "enabled": False,
                            "products": [], "proration_behavior": "none",
                            "schedule_at_period_end": {"conditions": []}, "trial_update_behavior": "end_trial"},
}


def _empty_features() -> Obj:
    return {
        "invoice_history": {"enabled": False},
        "payment_method_update": {"enabled": False, "payment_method_configuration": None},
        "subscription_cancel": {"cancellation_reason": {"enabled": False, "options": []}, "enabled": False,
                                "mode": "at_period_end", "proration_behavior": "none"},
        **{k: dict(v) for k, v in DISABLED_FEATURES.items()},
    }


def _update_features(features: Obj, p: Params) -> None:
    p.allow("invoice_history", "payment_method_update", "subscription_cancel")
    if "invoice_history" in p:
        ih = p.sub("invoice_history")
        ih.allow("enabled")
        features["invoice_history"]["enabled"] = bool(ih.bool("enabled", False))
    if "payment_method_update" in p:
        pmu = p.sub("payment_method_update")
        pmu.allow("enabled")
        features["payment_method_update"]["enabled"] = bool(pmu.bool("enabled", False))
    if "subscription_cancel" in p:
        sc = p.sub("subscription_cancel")
        sc.allow("enabled", "mode", "proration_behavior", "cancellation_reason")
        cancel = features["subscription_cancel"]
        if "enabled" in sc:
            cancel["enabled"] = bool(sc.bool("enabled"))
        for key, allowed in (("mode", CANCEL_MODES), ("proration_behavior", CANCEL_PRORATIONS)):
            value = sc.str(key)
            if value is not None:
                if value not in allowed:
                    raise invalid(sc.name(key), f"Invalid {key}: must be one of {', '.join(allowed)}",
                                  "parameter_invalid_string")
                cancel[key] = value
        if "cancellation_reason" in sc:
            cr = sc.sub("cancellation_reason")
            cr.allow("enabled", "options")
            options = [str(o) for o in cr.list("options")]
            unknown = [o for o in options if o not in CANCELLATION_REASONS]
            if unknown:
                raise invalid(cr.name("options"), f"Invalid cancellation reason: {unknown[0]}",
                              "parameter_invalid_string")
            cancel["cancellation_reason"] = {"enabled": bool(cr.bool("enabled", False)), "options": options}


def _business_profile(current: Obj, p: Params) -> Obj:
    p.allow("headline", "privacy_policy_url", "terms_of_service_url")
    result = dict(current)
    for key in ("headline", "privacy_policy_url", "terms_of_service_url"):
        if key in p:
            result[key] = nullable_str(p.raw(key), p.name(key))
    return result


def _return_url(value: Any, param: str) -> str | None:
    url = nullable_str(value, param)
    if url is not None and not URL_RE.match(url):
        raise invalid(param, "Not a valid URL", "url_invalid")
    return url


def create_configuration(app: Sandbox, p: Params, *, is_default: bool = False) -> Obj:
    features = _empty_features()
    _update_features(features, p.sub("features"))
    now = app.now()
    config: Obj = {
        "id": new_id("bpc_"), "object": "billing_portal.configuration", "active": True, "application": None,
        "business_profile": _business_profile({"headline": None, "privacy_policy_url": None,
                                               "terms_of_service_url": None}, p.sub("business_profile")),
        "created": now, "default_return_url": _return_url(p.raw("default_return_url"), "default_return_url"),
        "features": features, "is_default": is_default, "livemode": False,
        "login_page": {"enabled": False, "url": None}, "metadata": metadata_update({}, p.raw("metadata")),
        "name": p.str("name"), "updated": now,
    }
    app.add(config)
    app.emit("billing_portal.configuration.created", config)
    return config


@api("POST", "/v1/billing_portal/configurations")
def configurations_create(req: Request) -> Obj:
    req.p.allow("business_profile", "default_return_url", "features", "metadata", "name")
    if "features" not in req.p:
        raise StripeError(400, "Missing required param: features.", code="parameter_missing", param="features")
    return req.app.render(create_configuration(req.app, req.p))


retrieve_route("/v1/billing_portal/configurations/{id}", "billing_portal.configuration")


@api("POST", "/v1/billing_portal/configurations/{id}")
def configurations_update(req: Request) -> Obj:
    app, p = req.app, req.p
    p.allow("active", "business_profile", "default_return_url", "features", "metadata", "name")
    config = app.get("billing_portal.configuration", req.args["id"])
    active = p.bool("active")
    if active is False and config["is_default"]:
        raise invalid("active", "You cannot deactivate the default configuration.")

    def mutate() -> None:
        if active is not None:
            config["active"] = active
        if "business_profile" in p:
            config["business_profile"] = _business_profile(config["business_profile"], p.sub("business_profile"))
        if "default_return_url" in p:
            config["default_return_url"] = _return_url(p.raw("default_return_url"), "default_return_url")
        if "features" in p:
            _update_features(config["features"], p.sub("features"))
        if "name" in p:
            config["name"] = nullable_str(p.raw("name"), "name")
        config["metadata"] = metadata_update(config["metadata"], p.raw("metadata"))

    return app.render(update_with_event(app, config, mutate))


@api("GET", "/v1/billing_portal/configurations")
def configurations_list(req: Request) -> Obj:
    app, p = req.app, req.p
    objs = app.store.all("billing_portal.configuration")
    for key in ("active", "is_default"):
        value = p.bool(key)
        if value is not None:
            objs = [o for o in objs if o[key] == value]
    return app.list_response(objs, p, "/v1/billing_portal/configurations")


def default_configuration(app: Sandbox) -> Obj | None:
    return next((c for c in app.store.all("billing_portal.configuration") if c["is_default"]), None)


@api("POST", "/v1/billing_portal/sessions")
def sessions_create(req: Request) -> Obj:
    app, p = req.app, req.p
    p.allow("customer", "return_url", "configuration", "locale")
    customer = app.get("customer", p.req("customer"), "customer")
    if p.str("configuration"):
        config = app.get("billing_portal.configuration", p.req("configuration"), "configuration")
    else:
        found = default_configuration(app)
        if found is None:
            raise invalid("configuration", "No configuration provided and your test mode default configuration has "
                          "not been created. Provide a configuration or create your default (in the sandbox: POST "
                          "/_sandbox/billing_portal/default_configuration).")
        config = found
    if not config["active"]:
        raise invalid("configuration", f"The configuration {config['id']} is inactive.")
    return_url = _return_url(p.raw("return_url"), "return_url") or config["default_return_url"]
    session_id = new_id("bps_")
    session: Obj = {
        "id": session_id, "object": "billing_portal.session", "configuration": config["id"], "created": app.now(),
        "customer": customer["id"], "customer_account": None, "flow": None, "livemode": False,
        "locale": p.str("locale"), "on_behalf_of": None, "return_url": return_url,
        "url": f"{app.base_url}/p/session/{session_id}",
    }
    app.add(session)
    app.emit("billing_portal.session.created", session)
    return app.render(session)


@control("POST", "/_sandbox/billing_portal/default_configuration")
def default_configuration_control(req: Request) -> Obj:
    """Save the portal settings as the Dashboard would: invoice history, card updates and cancellation at period
    end, unless the JSON body gives ``features`` (same shape as the API's)."""
    app = req.app
    existing = default_configuration(app)
    if existing is not None:
        return app.render(existing)
    body = req.json if isinstance(req.json, dict) else {}
    features = body.get("features") or {"invoice_history": {"enabled": "true"},
                                        "payment_method_update": {"enabled": "true"},
                                        "subscription_cancel": {"enabled": "true", "mode": "at_period_end"}}
    return app.render(create_configuration(app, Params({"features": features}), is_default=True))
