"""Test clocks (``/v1/test_helpers/test_clocks``)."""

from __future__ import annotations

from collections.abc import Callable

from ..app import Obj, Sandbox
from ..errors import invalid, unexpected_state
from ..router import Request, api, retrieve_route
from ..store import new_id
from .customers import delete_customer
from .subscriptions_invoices import advance_clock

DELETES_AFTER = 30 * 24 * 3600
# Hooks run after a clock advanced to a frozen time (payouts arrive: payouts.py)
ON_ADVANCED: list[Callable[[Sandbox, int], None]] = []


@api("POST", "/v1/test_helpers/test_clocks")
def clocks_create(req: Request) -> Obj:
    app, p = req.app, req.p
    p.allow("frozen_time", "name")
    frozen = p.int("frozen_time", required=True)
    now = app.now()
    clock: Obj = {
        "id": new_id("clock_"), "object": "test_helpers.test_clock", "created": now,
        "deletes_after": now + DELETES_AFTER, "frozen_time": frozen, "livemode": False, "name": p.str("name"),
        "status": "ready", "status_details": {},
    }
    app.add(clock)
    app.emit("test_helpers.test_clock.created", clock)
    return app.render(clock)


retrieve_route("/v1/test_helpers/test_clocks/{id}", "test_helpers.test_clock")


@api("GET", "/v1/test_helpers/test_clocks")
def clocks_list(req: Request) -> Obj:
    return req.app.list_response(req.app.store.all("test_helpers.test_clock"), req.p,
                                 "/v1/test_helpers/test_clocks")


@api("POST", "/v1/test_helpers/test_clocks/{id}/advance")
def clocks_advance(req: Request) -> Obj:
    """Advances synchronously. The response says ``advancing`` (as Stripe's does); by the time it is sent
    every renewal has been processed and a retrieve returns ``ready``."""
    app, p = req.app, req.p
    p.allow("frozen_time")
    clock = app.get("test_helpers.test_clock", req.args["id"])
    target = p.int("frozen_time", required=True)
    assert target is not None
    if clock["status"] != "ready":
        raise unexpected_state("The test clock is not ready to be advanced.", "test_clock_unexpected_state")
    if target <= clock["frozen_time"]:
        raise invalid("frozen_time", "The frozen_time must be after the current frozen_time of the test clock "
                      f"({clock['frozen_time']}).", "parameter_invalid_integer")
    clock["status"] = "advancing"
    response = app.render(clock)
    app.emit("test_helpers.test_clock.advancing", clock)
    advance_clock(app, clock, target)
    for hook in ON_ADVANCED:
        hook(app, target)
    clock["status"] = "ready"
    app.emit("test_helpers.test_clock.ready", clock)
    response["frozen_time"] = target
    return response


@api("DELETE", "/v1/test_helpers/test_clocks/{id}")
def clocks_delete(req: Request) -> Obj:
    app = req.app
    clock = app.get("test_helpers.test_clock", req.args["id"])
    for customer in app.store.all("customer"):
        if customer.get("test_clock") == clock["id"] and not customer.get("_deleted"):
            delete_customer(app, customer)
    app.emit("test_helpers.test_clock.deleted", clock)
    clock["_deleted"] = True
    if app.store.config.get("default_test_clock") == clock["id"]:
        app.store.config["default_test_clock"] = None
    return app.render(clock)
