"""``POST /v1/invoices/create_preview`` for a subscription, optionally with a proposed change.

The preview runs the real code paths on a throw-away copy of the state (no events, no webhooks, nothing kept):
with ``subscription_details[items]`` the change is applied with its ``proration_behavior`` and
``proration_date``; the preview is the invoice that change bills at once (``always_invoice``) or else the next
renewal invoice, which takes the pending prorations. The preview's id starts with ``upcoming_in_``.
"""

from __future__ import annotations

import copy
from typing import Any

from ..app import Obj, Sandbox
from ..errors import StripeError, invalid
from ..forms import Params
from ..router import Request, api
from ..store import new_id
from .billing_periods import add_interval, proration_behaviour
from .invoice_items import pending_items
from .subscription_changes import apply_item_changes, change_moment, parse_item_changes
from .subscriptions_invoices import create_invoice, period_end, period_start


def _renewal_draft(app: Sandbox, sub: Obj) -> Obj:
    """The invoice the next period boundary creates, at that moment (discounts may have ended by then)."""
    interval, count = sub["_interval"]
    start, end = period_start(app, sub), period_end(app, sub)
    next_end = add_interval(sub["billing_cycle_anchor"], interval, count, sub["_cycle"] + 2)
    clock = app.clock_of_customer(sub["customer"])
    if clock is not None:
        clock["frozen_time"] = end
    else:
        app.store.config["time_offset"] = int(app.store.config.get("time_offset") or 0) + end - app.now()
    lines: list[tuple[Obj, int, str | None]] = []
    for item_id in sub["_items"]:
        item = app.get("subscription_item", item_id)
        lines.append((app.get("price", item["_price"]), item["quantity"], item_id))
    return create_invoice(app, sub, "subscription_cycle", lines, (end, next_end), (start, end), finalize=False)


def _preview(app: Sandbox, sub: Obj, details: Any) -> Obj:
    sd = Params(details if isinstance(details, dict) else {}, "subscription_details")
    sd.allow("items", "proration_behavior", "proration_date")
    behaviour = proration_behaviour(sd)
    at = change_moment(app, sub, sd)
    changes = parse_item_changes(app, sub, sd)
    if changes:
        apply_item_changes(app, sub, changes, behaviour=behaviour, at=at)
    if behaviour == "always_invoice" and pending_items(app, sub["customer"], sub["id"]):
        invoice = create_invoice(app, sub, "subscription_update", [], (at, at), (at, at), finalize=False)
    else:
        invoice = _renewal_draft(app, sub)
    rendered = app.render(invoice)
    preview_id = f"upcoming_{new_id('in_')}"
    rendered["id"] = preview_id
    rendered["lines"]["url"] = f"/v1/invoices/{preview_id}/lines"
    for line in rendered["lines"]["data"]:
        line["invoice"] = preview_id
    return rendered


@api("POST", "/v1/invoices/create_preview")
def invoices_create_preview(req: Request) -> Obj:
    app, p = req.app, req.p
    p.allow("customer", "subscription", "subscription_details")
    if not p.str("subscription"):
        raise StripeError(400, "The sandbox previews subscription invoices only: pass `subscription`.",
                          code="parameter_missing", param="subscription")
    sub = app.get("subscription", p.req("subscription"), "subscription")
    if p.str("customer") and p.str("customer") != sub["customer"]:
        raise invalid("customer", "The subscription belongs to another customer.")
    if sub["status"] in ("canceled", "incomplete_expired"):
        raise invalid("subscription", "A canceled subscription has no upcoming invoice.", "invoice_upcoming_none")
    saved_objects, saved_config = copy.deepcopy(app.store.objects), copy.deepcopy(app.store.config)
    saved_delivery, app.delivery = app.delivery, None
    try:
        working = app.get("subscription", sub["id"])
        return _preview(app, working, p.raw("subscription_details"))
    finally:
        app.store.objects, app.store.config, app.delivery = saved_objects, saved_config, saved_delivery
