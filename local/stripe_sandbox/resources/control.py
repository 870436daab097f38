"""Test-control routes (non-Stripe, under ``/_sandbox/``, no authentication)."""

from __future__ import annotations

from typing import Any

from ..app import Obj, Sandbox, dumps
from ..delivery_failures import KEYS as FAILURE_KEYS
from ..errors import StripeError, invalid
from ..router import Request, Response, control, unlocked
from . import payment_intents as pis
from .checkout import complete_session
from .setup_intents import fail_setup_authentication, finish_setup_intent


def _body(req: Request) -> dict[str, Any]:
    if not isinstance(req.json, dict):
        raise StripeError(400, "Body must be a JSON object.")
    return req.json


@control("GET", "/_sandbox/health")
def health(req: Request) -> Obj:
    return {"ok": True, "url": req.app.base_url}


@control("POST", "/_sandbox/reset")
def reset(req: Request) -> Obj:
    app = req.app
    if app.delivery is not None:
        app.delivery.reset()
    app.store.reset()
    return {"reset": True}


@control("GET", "/_sandbox/config")
def config_get(req: Request) -> Obj:
    return dict(req.app.store.config)


@control("POST", "/_sandbox/config")
def config_set(req: Request) -> Obj:
    app, body = req.app, _body(req)
    unknown = set(body) - {"default_test_clock", "time_offset"}
    if unknown:
        raise StripeError(400, f"Unknown config keys: {', '.join(sorted(unknown))}")
    if "default_test_clock" in body:
        clock_id = body["default_test_clock"]
        if clock_id is not None:
            app.get("test_helpers.test_clock", clock_id, "default_test_clock")
        app.store.config["default_test_clock"] = clock_id
    if "time_offset" in body:
        if not isinstance(body["time_offset"], int):
            raise StripeError(400, "time_offset must be an integer number of seconds.")
        app.store.config["time_offset"] = body["time_offset"]
    return dict(app.store.config)


@control("GET", "/_sandbox/chaos")
def chaos_get(req: Request) -> Obj:
    assert req.app.delivery is not None
    return req.app.delivery.chaos_settings()


@control("POST", "/_sandbox/chaos")
def chaos_set(req: Request) -> Obj:
    body = _body(req)
    unknown = set(body) - {"duplicate", "shuffle", "delay_ms", "seed"} - FAILURE_KEYS
    if unknown:
        raise StripeError(400, f"Unknown chaos keys: {', '.join(sorted(unknown))}")
    assert req.app.delivery is not None
    try:
        return req.app.delivery.set_chaos(body)
    except (TypeError, ValueError) as exc:
        raise StripeError(400, str(exc)) from None


@unlocked("POST", "/_sandbox/webhooks/flush")
def flush(req: Request) -> Response:
    """Blocks (without holding the state lock) until every webhook queue is empty, or ``timeout`` seconds."""
    app = req.app
    body = req.json if isinstance(req.json, dict) else {}
    timeout = body.get("timeout", 10)
    if not isinstance(timeout, (int, float)) or timeout < 0:
        raise StripeError(400, "timeout must be a non-negative number of seconds.")
    assert app.delivery is not None
    pending = app.delivery.flush(float(timeout))
    return Response(200 if pending == 0 else 504, dumps({"flushed": pending == 0, "pending": pending}))


@control("POST", "/_sandbox/checkout/sessions/{id}/complete")
def checkout_complete(req: Request) -> Obj:
    app = req.app
    session = app.get("checkout.session", req.args["id"])
    return complete_session(app, session, _body(req))


@control("POST", "/_sandbox/payment_intents/{id}/three_d_secure")
def pi_three_d_secure(req: Request) -> Obj:
    app = req.app
    pi = app.get("payment_intent", req.args["id"])
    return app.render(pis.complete_authentication(app, pi, _result(req)))


@control("POST", "/_sandbox/setup_intents/{id}/three_d_secure")
def si_three_d_secure(req: Request) -> Obj:
    app = req.app
    si = app.get("setup_intent", req.args["id"])
    return app.render(authenticate_setup_intent(app, si, _result(req)))


def authenticate_setup_intent(app: Sandbox, si: Obj, succeed: bool) -> Obj:
    if si["status"] != "requires_action":
        raise StripeError(400, f"This SetupIntent is not awaiting authentication (status: {si['status']}).",
                          code="setup_intent_unexpected_state")
    if succeed:
        pm = app.get("payment_method", si["payment_method"])
        customer = app.store.get(si["customer"], "customer") if si.get("customer") else None
        return finish_setup_intent(app, si, pm, customer)
    return fail_setup_authentication(app, si)


def _result(req: Request) -> bool:
    result = _body(req).get("result")
    if result not in ("succeed", "fail"):
        raise invalid("result", 'result must be "succeed" or "fail"', "parameter_invalid_string")
    return result == "succeed"


@control("POST", "/_sandbox/payment_intents/{id}/settle")
def pi_settle(req: Request) -> Obj:
    app = req.app
    return app.render(pis.settle(app, app.get("payment_intent", req.args["id"])))
