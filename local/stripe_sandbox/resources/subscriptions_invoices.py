"""Subscriptions, subscription items, invoices and renewals (driven by test clocks).

In the pinned API version the billing period lives on subscription items
(``items.data[].current_period_start/end``) and an invoice points at its
subscription through ``parent.subscription_details.subscription``; the legacy
top-level ``invoice.subscription`` is also filled in for convenience.
"""

from __future__ import annotations

import contextlib
from typing import Any

from .. import cards
from ..app import RENDERERS, VIRTUAL_EXPANDS, Obj, Sandbox, previous_attributes
from ..errors import StripeError, invalid, unexpected_state
from ..forms import Params, metadata_update
from ..router import Request, api, retrieve_route
from ..store import new_id
from . import payment_intents as pis
from .billing_periods import add_interval, proration_behaviour
from .discounts import Requested, materialize, parse_discounts, retire_discounts
from .invoice_builder import build_invoice, finalize_invoice, price_line
from .invoice_items import item_line, pending_items
from .payment_methods import card_error, card_of, resolve_payment_method
from .plans import item_plan, plan_object
from .subscription_lifecycle import (
    collect_while_paused,
    parse_missing_payment_method,
    parse_trial_end,
    send_trial_will_end,
    send_trial_will_end_if_due,
    trial_will_end_at,
)

INCOMPLETE_EXPIRY = 23 * 3600
PAYMENT_BEHAVIOURS = ("allow_incomplete", "default_incomplete", "error_if_incomplete", "pending_if_incomplete")


def _render_item(app: Sandbox, obj: Obj, out: Obj) -> None:
    price = app.get("price", obj["_price"])
    out["price"] = app.render(price)
    out["plan"] = plan_object(price)


def _render_subscription(app: Sandbox, obj: Obj, out: Obj) -> None:
    items = [app.get("subscription_item", si) for si in obj["_items"]]
    out["items"] = {"object": "list", "data": [app.render(i) for i in items], "has_more": False,
                    "total_count": len(items), "url": f"/v1/subscription_items?subscription={obj['id']}"}


def _invoice_payments(app: Sandbox, obj: Obj) -> Obj:
    return {"object": "list", "data": list(obj["_payments"]), "has_more": False,
            "url": f"/v1/invoice_payments?invoice={obj['id']}"}


RENDERERS["subscription_item"] = _render_item
RENDERERS["subscription"] = _render_subscription
VIRTUAL_EXPANDS[("invoice", "payments")] = _invoice_payments


def period_end(app: Sandbox, sub: Obj) -> int:
    return int(app.get("subscription_item", sub["_items"][0])["current_period_end"])


def period_start(app: Sandbox, sub: Obj) -> int:
    return int(app.get("subscription_item", sub["_items"][0])["current_period_start"])


# ---------------------------------------------------------------------------------- invoices
def create_invoice(app: Sandbox, sub: Obj, billing_reason: str, lines: list[tuple[Obj, int, str | None]],
                   line_period: tuple[int, int], invoice_period: tuple[int, int], *, finalize: bool = True,
                   trial: bool = False) -> Obj:
    """The customer's pending invoice items (prorations first), then a line per ``(price, quantity, item)``.

    ``trial`` makes the recurring lines free ("Trial period for …"); ``finalize=False`` leaves a draft.
    """
    inv_id = new_id("in_")
    line_objs = [item_line(app, inv_id, item) for item in pending_items(app, sub["customer"], sub["id"])]
    for price, qty, item_id in lines:
        end = line_period[1] if price["recurring"] else line_period[0]
        free: dict[str, Any] = {}
        if trial and price["recurring"]:
            product = app.store.get(price["product"], "product") or {}
            free = {"amount": 0, "description": f"Trial period for {product.get('name', 'Item')}"}
        line_objs.append(price_line(app, inv_id, sub, price, qty, line_period[0], end, item_id, **free))
    invoice = build_invoice(app, sub, inv_id, billing_reason, line_objs, invoice_period)
    retire_discounts(app, sub, invoice, app.now_for(sub["customer"]))
    if finalize:
        finalize_invoice(app, invoice)
    return invoice


def default_payment_method(app: Sandbox, sub: Obj) -> Obj | None:
    pm_id = sub.get("default_payment_method")
    if not pm_id:
        customer = app.store.get(sub["customer"], "customer")
        pm_id = customer["invoice_settings"]["default_payment_method"] if customer else None
    return app.store.get(pm_id, "payment_method") if pm_id else None


def invoice_payment_intent(app: Sandbox, invoice: Obj, description: str, internal: dict[str, Any]) -> Obj:
    pi = pis.create_payment_intent(
        app, amount=invoice["amount_due"], currency=invoice["currency"], customer=invoice["customer"],
        description=description, setup_future_usage="off_session",
        internal={"_invoice": invoice["id"], **internal})
    invoice["_payments"].append({
        "id": new_id("inpay_"), "object": "invoice_payment", "amount_paid": None,
        "amount_requested": invoice["amount_due"], "created": pi["created"], "currency": invoice["currency"],
        "invoice": invoice["id"], "is_default": True, "livemode": False,
        "payment": {"payment_intent": pi["id"], "type": "payment_intent"}, "status": "open",
        "status_transitions": {"canceled_at": None, "paid_at": None},
    })
    return pi


def pay_invoice(app: Sandbox, invoice: Obj, pm: Obj | None, *, off_session: bool,
                pi: Obj | None = None) -> Obj | None:
    """Attempt payment; failures are recorded (events, statuses) and never raised."""
    if invoice["amount_due"] == 0:
        _mark_paid(app, invoice, None)
        return None
    if pi is None or pi["status"] in ("canceled", "succeeded"):
        pi = invoice_payment_intent(app, invoice, "Subscription creation" if invoice["billing_reason"]
                                    == "subscription_create" else "Subscription update", {})
    invoice["attempt_count"] += 1
    invoice["attempted"] = True
    if pm is None:
        _on_failed(app, pi)
        return pi
    pi["payment_method"] = pm["id"]
    with contextlib.suppress(StripeError):  # the failure is recorded on the intent and the invoice
        pis.attempt(app, pi, pm, off_session=off_session)
    return pi


def _mark_paid(app: Sandbox, invoice: Obj, pi: Obj | None) -> None:
    before = app.render(invoice)
    now = app.now_for(invoice["customer"])
    invoice.update(status="paid", amount_paid=invoice["amount_due"], amount_remaining=0)
    invoice["status_transitions"]["paid_at"] = now
    for payment in invoice["_payments"]:
        if pi is not None and payment["payment"]["payment_intent"] == pi["id"]:
            payment.update(status="paid", amount_paid=invoice["amount_due"])
            payment["status_transitions"]["paid_at"] = now
    prev = previous_attributes(before, app.render(invoice))
    app.emit("invoice.paid", invoice, prev)
    app.emit("invoice.payment_succeeded", invoice, prev)
    customer = app.store.get(invoice["customer"], "customer")
    if customer and customer["delinquent"]:
        customer["delinquent"] = False
    sub = app.store.get(invoice["subscription"], "subscription") if invoice.get("subscription") else None
    if sub and pi is not None and not sub["default_payment_method"] and \
            sub["payment_settings"]["save_default_payment_method"] == "on_subscription":
        sub["default_payment_method"] = pi["payment_method"]
    if sub and sub["status"] in ("incomplete", "past_due"):
        still_open = [i for i in app.store.all("invoice")
                      if i.get("subscription") == sub["id"] and i["status"] == "open"]
        if not still_open:
            _set_status(app, sub, "active")


def _set_status(app: Sandbox, sub: Obj, status: str) -> None:
    before = app.render(sub)
    sub["status"] = status
    app.emit("customer.subscription.updated", sub, previous_attributes(before, app.render(sub)))


def _on_succeeded(app: Sandbox, pi: Obj) -> None:
    invoice = app.store.get(pi.get("_invoice") or "", "invoice")
    if invoice and invoice["status"] == "open":
        _mark_paid(app, invoice, pi)


def _on_failed(app: Sandbox, pi: Obj) -> None:
    invoice = app.store.get(pi.get("_invoice") or "", "invoice")
    if not invoice or invoice["status"] != "open":
        return
    app.emit("invoice.payment_failed", invoice)
    customer = app.store.get(invoice["customer"], "customer")
    if customer and not customer["delinquent"]:
        customer["delinquent"] = True
    sub = app.store.get(invoice.get("subscription") or "", "subscription")
    if sub and sub["status"] == "active":
        _set_status(app, sub, "past_due")


def _on_requires_action(app: Sandbox, pi: Obj) -> None:
    invoice = app.store.get(pi.get("_invoice") or "", "invoice")
    if invoice and invoice["status"] == "open":
        app.emit("invoice.payment_action_required", invoice)


pis.ON_SUCCEEDED.append(_on_succeeded)
pis.ON_FAILED.append(_on_failed)
pis.ON_REQUIRES_ACTION.append(_on_requires_action)


# ----------------------------------------------------------------------------- subscriptions
def create_subscription(
    app: Sandbox,
    customer: Obj,
    items: list[tuple[Obj, int, dict[str, str]]],
    *,
    one_time: list[tuple[Obj, int]] | None = None,
    default_pm: Obj | None = None,
    metadata: dict[str, str] | None = None,
    payment_behavior: str = "allow_incomplete",
    off_session: bool = False,
    cancel_at_period_end: bool = False,
    cancel_at: int | None = None,
    description: str | None = None,
    trial_end: int | None = None,
    missing_payment_method: str | None = None,
    discounts: list[Requested] | None = None,
    save_default_payment_method: str = "off",
    internal: dict[str, Any] | None = None,
) -> Obj:
    """A subscription and its first invoice, paid per ``payment_behavior`` ($0 during a ``trial_end`` trial)."""
    recurring = [price["recurring"] for price, _, _ in items]
    intervals = {(r["interval"], r["interval_count"]) for r in recurring}
    if len(intervals) > 1:
        raise invalid("items", "Currency and interval fields must match across all plans on this "
                      "subscription.", "parameter_invalid_empty")
    currencies = {price["currency"] for price, _, _ in items} | {price["currency"] for price, _ in one_time or []}
    if len(currencies) > 1:
        raise invalid("items", "All prices on a subscription must have the same currency.")
    interval, count = next(iter(intervals))
    start = app.now_for(customer["id"])
    end = trial_end or add_interval(start, interval, count, 1)
    sub_id = new_id("sub_")
    item_objs = []
    for price, qty, meta in items:
        item = {"id": new_id("si_", 14), "object": "subscription_item", "billing_thresholds": None,
                "created": start, "current_period_end": end, "current_period_start": start, "discounts": [],
                "metadata": meta, "quantity": qty, "subscription": sub_id, "tax_rates": [],
                "_price": price["id"]}
        app.add(item)
        item_objs.append(item)
    sub: Obj = {
        "id": sub_id, "object": "subscription", "application": None, "application_fee_percent": None,
        "automatic_tax": {"disabled_reason": None, "enabled": False, "liability": None},
        "billing_cycle_anchor": trial_end or start, "billing_cycle_anchor_config": None,
        "billing_mode": {"flexible": None, "type": "classic", "updated_at": None}, "billing_schedules": [],
        "billing_thresholds": None, "cancel_at": end if cancel_at_period_end else cancel_at,
        "cancel_at_period_end": cancel_at_period_end,
        "canceled_at": start if cancel_at_period_end or cancel_at else None,
        "cancellation_details": {"comment": None, "feedback": None,
                                 "reason": "cancellation_requested" if cancel_at_period_end or cancel_at else None},
        "collection_method": "charge_automatically", "created": start, "currency": currencies.pop(),
        "customer": customer["id"], "customer_account": None, "days_until_due": None,
        "default_payment_method": default_pm["id"] if default_pm else None, "default_source": None,
        "default_tax_rates": [], "description": description, "discounts": [], "ended_at": None,
        "invoice_settings": {"account_tax_ids": None, "issuer": {"type": "self"}}, "latest_invoice": None,
        "livemode": False, "managed_payments": None, "metadata": metadata or {},
        "next_pending_invoice_item_invoice": None, "on_behalf_of": None, "pause_collection": None,
        "payment_settings": {"payment_method_options": None, "payment_method_types": None,
                             "save_default_payment_method": save_default_payment_method},
        "pending_invoice_item_interval": None, "pending_setup_intent": None, "pending_update": None,
        "schedule": None, "start_date": start, "status": "trialing" if trial_end else "incomplete",
        "test_clock": customer.get("test_clock"), "transfer_data": None, "trial_end": trial_end,
        "trial_settings": {"end_behavior": {"missing_payment_method": missing_payment_method or "create_invoice"}},
        "trial_start": start if trial_end else None,
        # _cycle counts billing intervals after the anchor; a trial's period lies before its anchor (trial_end)
        "_items": [i["id"] for i in item_objs], "_interval": [interval, count], "_cycle": -1 if trial_end else 0,
        **(internal or {}),
    }
    app.add(sub)
    sub["discounts"] = materialize(app, discounts or [], start=start, customer=customer["id"], subscription=sub_id)
    app.emit("customer.subscription.created", sub)
    send_trial_will_end_if_due(app, sub, start)
    lines: list[tuple[Obj, int, str | None]] = [(price, qty, item["id"])
                                                for (price, qty, _), item in zip(items, item_objs, strict=True)]
    lines += [(price, qty, None) for price, qty in one_time or []]
    invoice = create_invoice(app, sub, "subscription_create", lines, (start, end), (start, start),
                             trial=bool(trial_end))
    sub["latest_invoice"] = invoice["id"]
    pi = (invoice_payment_intent(app, invoice, "Subscription creation", {k: v for k, v in (internal or {}).items()})
          if invoice["amount_due"] else None)
    if payment_behavior == "default_incomplete":
        if pi is not None and default_pm is not None:
            pi.update(payment_method=default_pm["id"], status="requires_confirmation")
        if pi is None:
            _mark_paid(app, invoice, None)
        return sub
    pm = default_pm or default_payment_method(app, sub)
    if pm is None and invoice["amount_due"]:
        raise StripeError(400, "This customer has no attached payment source or default payment method. Please "
                          "consider adding a default payment method. For more information, visit "
                          "https://stripe.com/docs/billing/subscriptions/payment-methods-setting#payment-method-"
                          "priority.", code="resource_missing")
    pay_invoice(app, invoice, pm, off_session=off_session, pi=pi)
    return sub


def cancel_subscription(app: Sandbox, sub: Obj, *, reason: str = "cancellation_requested",
                        at: int | None = None, comment: str | None = None, feedback: str | None = None) -> Obj:
    now = at if at is not None else app.now_for(sub["customer"])
    sub.update(status="canceled", ended_at=now, canceled_at=sub.get("canceled_at") or now)
    sub["cancellation_details"] = {"comment": comment, "feedback": feedback, "reason": reason}
    app.emit("customer.subscription.deleted", sub)
    return sub


def renew(app: Sandbox, sub: Obj) -> None:
    """The period boundary: next period, its invoice, its payment (or what a trial end / pause decides)."""
    interval, count = sub["_interval"]
    before = app.render(sub)
    old_start, old_end = period_start(app, sub), period_end(app, sub)
    if sub["status"] == "trialing":
        if sub["trial_settings"]["end_behavior"]["missing_payment_method"] == "cancel" and \
                default_payment_method(app, sub) is None:
            cancel_subscription(app, sub, at=old_end)
            return
        sub["status"] = "active"  # the trial is over; a failed first charge makes it past_due
    sub["_cycle"] += 1
    new_end = add_interval(sub["billing_cycle_anchor"], interval, count, sub["_cycle"] + 1)
    for item_id in sub["_items"]:
        app.get("subscription_item", item_id).update(current_period_start=old_end, current_period_end=new_end)
    lines: list[tuple[Obj, int, str | None]] = []
    for item_id in sub["_items"]:
        item = app.get("subscription_item", item_id)
        lines.append((app.get("price", item["_price"]), item["quantity"], item_id))
    paused = sub.get("pause_collection")
    invoice = create_invoice(app, sub, "subscription_cycle", lines, (old_end, new_end), (old_start, old_end),
                             finalize=not paused or paused["behavior"] != "keep_as_draft")
    sub["latest_invoice"] = invoice["id"]
    app.emit("customer.subscription.updated", sub, previous_attributes(before, app.render(sub)))
    if paused:
        collect_while_paused(app, invoice, paused["behavior"])
        return
    pay_invoice(app, invoice, default_payment_method(app, sub), off_session=True)


def _next_step(app: Sandbox, sub: Obj, target: int) -> tuple[int, int, str] | None:
    """The subscription's earliest step due by ``target``: ``(when, order among equal times, action)``."""
    if sub["status"] == "incomplete":
        expires = sub["created"] + INCOMPLETE_EXPIRY
        return (expires, 0, "expire") if expires <= target else None
    if sub["status"] not in ("active", "past_due", "trialing"):
        return None
    end = period_end(app, sub)
    steps = [(end, 3, "renew")]
    if sub.get("cancel_at") and sub["cancel_at"] <= end:
        steps = [(sub["cancel_at"], 2, "cancel")]
    notice = trial_will_end_at(sub)
    if notice is not None:
        steps.append((notice, 0, "trial_will_end"))
    resumes_at = (sub.get("pause_collection") or {}).get("resumes_at")
    if resumes_at:
        steps.append((resumes_at, 1, "resume"))
    due = [step for step in steps if step[0] <= target]
    return min(due) if due else None


def advance_clock(app: Sandbox, clock: Obj, target: int) -> None:
    """Run every subscription of the clock's customers through its due steps up to ``target``, in time order."""
    customers = {c["id"] for c in app.store.all("customer") if c.get("test_clock") == clock["id"]}
    while True:
        due: list[tuple[int, int, int, str, Obj]] = []
        for n, sub in enumerate(reversed(app.store.all("subscription"))):
            step = _next_step(app, sub, target) if sub["customer"] in customers else None
            if step is not None:
                due.append((step[0], step[1], n, step[2], sub))
        if not due:
            break
        when, _, _, action, sub = min(due, key=lambda d: d[:3])
        clock["frozen_time"] = max(when, int(clock["frozen_time"]))
        if action == "expire":
            _set_status(app, sub, "incomplete_expired")
        elif action == "trial_will_end":
            send_trial_will_end(app, sub)
        elif action == "resume":
            before = app.render(sub)
            sub["pause_collection"] = None
            app.emit("customer.subscription.updated", sub, previous_attributes(before, app.render(sub)))
        elif action == "cancel":
            cancel_subscription(app, sub, at=when)
        else:
            renew(app, sub)
    clock["frozen_time"] = target


def _items_param(app: Sandbox, p: Params) -> list[tuple[Obj, int, dict[str, str]]]:
    raw = p.list("items")
    if not raw:
        raise StripeError(400, "Missing required param: items.", code="parameter_missing", param="items")
    result = []
    for i, entry in enumerate(raw):
        ip = Params(entry if isinstance(entry, dict) else {}, f"items[{i}]")
        ip.allow("price", "plan", "quantity", "metadata", "price_data")
        plan = item_plan(app, ip)
        if plan is not None:
            price = plan
        elif "price_data" in ip:
            from .products_prices import create_price

            price = create_price(app, ip.sub("price_data"))
        else:
            price = app.get("price", ip.req("price"), f"items[{i}][price]")
        if not price["recurring"]:
            raise invalid(f"items[{i}][price]", "The price specified is set to `type=one_time` but this field "
                          "only accepts prices with `type=recurring`.")
        if not price["active"]:
            raise invalid(f"items[{i}][price]", "The price specified is inactive. This field only accepts "
                          "active prices.")
        qty = ip.int("quantity", 1, minimum=1)
        assert qty is not None
        result.append((price, qty, metadata_update({}, ip.raw("metadata"), f"items[{i}][metadata]")))
    return result


@api("POST", "/v1/subscriptions")
def subscriptions_create(req: Request) -> Obj:
    app, p = req.app, req.p
    p.allow("customer", "items", "default_payment_method", "metadata", "cancel_at_period_end", "payment_behavior",
            "off_session", "description", "collection_method", "payment_settings", "proration_behavior",
            "add_invoice_items", "trial_period_days", "trial_end", "trial_settings", "discounts", "cancel_at")
    customer = app.get("customer", p.req("customer"), "customer")
    proration_behaviour(p)  # only matters for backdating / billing_cycle_anchor, which the sandbox lacks
    settings = p.sub("payment_settings")
    settings.allow("save_default_payment_method")
    save_pm = settings.str("save_default_payment_method", "off")
    if save_pm not in ("off", "on_subscription"):
        raise invalid("payment_settings[save_default_payment_method]", "Invalid save_default_payment_method: must "
                      "be one of off or on_subscription", "parameter_invalid_string")
    now = app.now_for(customer["id"])
    trial_end = parse_trial_end(p, now, allow_days=True)
    cancel_at = p.int("cancel_at")
    if cancel_at is not None and cancel_at <= now:
        raise invalid("cancel_at", "cancel_at must be in the future.", "parameter_invalid_integer")
    if cancel_at is not None and p.bool("cancel_at_period_end"):
        raise invalid("cancel_at", "You may only specify one of these parameters: cancel_at, cancel_at_period_end.")
    if p.str("collection_method", "charge_automatically") != "charge_automatically":
        raise invalid("collection_method", "The sandbox only supports collection_method=charge_automatically.",
                      "parameter_invalid_string")
    behaviour = p.str("payment_behavior", "allow_incomplete")
    if behaviour not in PAYMENT_BEHAVIOURS:
        raise invalid("payment_behavior", f"Invalid payment_behavior: must be one of {', '.join(PAYMENT_BEHAVIOURS)}",
                      "parameter_invalid_string")
    items = _items_param(app, p)
    pm = None
    if p.str("default_payment_method"):
        pm = app.get("payment_method", p.req("default_payment_method"), "default_payment_method")
        if pm.get("customer") != customer["id"]:
            raise invalid("default_payment_method", "The customer does not have a payment method with the ID "
                          f"{pm['id']}. The payment method must be attached to the customer.", "resource_missing")
    if behaviour == "error_if_incomplete":
        card = card_of(pm or default_payment_method(app, {"customer": customer["id"]}) or {})
        if card is not None and card.behaviour in (cards.DECLINE, cards.CHARGE_FAIL):
            raise card_error(card)
    one_time = []
    for i, entry in enumerate(p.list("add_invoice_items")):
        ap = Params(entry if isinstance(entry, dict) else {}, f"add_invoice_items[{i}]")
        ap.allow("price", "quantity")
        one_time.append((app.get("price", ap.req("price"), f"add_invoice_items[{i}][price]"),
                         ap.int("quantity", 1) or 1))
    subtotal = sum(price["unit_amount"] * qty for price, qty, _ in items) + sum(
        price["unit_amount"] * qty for price, qty in one_time)
    discounts = parse_discounts(app, p, "discounts", customer=customer["id"], currency=items[0][0]["currency"],
                                subtotal=subtotal)
    sub = create_subscription(
        app, customer, items, one_time=one_time, default_pm=pm, metadata=metadata_update({}, p.raw("metadata")),
        payment_behavior=behaviour, off_session=bool(p.bool("off_session", False)),
        cancel_at_period_end=bool(p.bool("cancel_at_period_end", False)), cancel_at=cancel_at,
        description=p.str("description"), trial_end=trial_end if isinstance(trial_end, int) else None,
        missing_payment_method=parse_missing_payment_method(p), discounts=discounts,
        save_default_payment_method=str(save_pm))
    return app.render(sub)


retrieve_route("/v1/subscriptions/{id}", "subscription")


@api("GET", "/v1/subscriptions")
def subscriptions_list(req: Request) -> Obj:
    app, p = req.app, req.p
    objs = app.store.all("subscription")
    status = p.str("status")
    if status is None:
        objs = [o for o in objs if o["status"] not in ("canceled", "incomplete_expired")]
    elif status == "ended":
        objs = [o for o in objs if o["status"] in ("canceled", "incomplete_expired")]
    elif status != "all":
        objs = [o for o in objs if o["status"] == status]
    for key in ("customer", "test_clock"):
        if p.str(key):
            objs = [o for o in objs if o[key] == p.str(key)]
    if p.str("price"):
        objs = [o for o in objs if any(app.get("subscription_item", i)["_price"] == p.str("price")
                                       for i in o["_items"])]
    return app.list_response(objs, p, "/v1/subscriptions")


@api("GET", "/v1/subscriptions/search")
def subscriptions_search(req: Request) -> Obj:
    return req.app.search_response(req.app.store.all("subscription"), req.p, "/v1/subscriptions/search",
                                   {"created", "metadata", "status", "customer"})


@api("GET", "/v1/subscription_items")
def subscription_items_list(req: Request) -> Obj:
    app, p = req.app, req.p
    sub = app.get("subscription", p.req("subscription"), "subscription")
    objs = [app.get("subscription_item", i) for i in reversed(sub["_items"])]
    return app.list_response(objs, p, "/v1/subscription_items")


retrieve_route("/v1/subscription_items/{id}", "subscription_item")


retrieve_route("/v1/invoices/{id}", "invoice")


@api("GET", "/v1/invoices")
def invoices_list(req: Request) -> Obj:
    app, p = req.app, req.p
    objs = app.store.all("invoice")
    for key in ("customer", "subscription", "status"):
        if p.str(key):
            objs = [o for o in objs if o[key] == p.str(key)]
    return app.list_response(objs, p, "/v1/invoices")


@api("GET", "/v1/invoices/search")
def invoices_search(req: Request) -> Obj:
    return req.app.search_response(req.app.store.all("invoice"), req.p, "/v1/invoices/search",
                                   {"created", "customer", "metadata", "number", "status", "subscription", "total"})


@api("GET", "/v1/invoices/{id}/lines")
def invoice_lines(req: Request) -> Obj:
    app, p = req.app, req.p
    invoice = app.get("invoice", req.args["id"])
    return app.list_response(list(invoice["lines"]["data"]), p, f"/v1/invoices/{invoice['id']}/lines",
                             render=lambda o: dict(o))


@api("GET", "/v1/invoice_payments")
def invoice_payments_list(req: Request) -> Obj:
    app, p = req.app, req.p
    invoices = [app.get("invoice", p.req("invoice"), "invoice")] if p.str("invoice") else app.store.all("invoice")
    payments = [pay for inv in invoices for pay in reversed(inv["_payments"])]
    return app.list_response(payments, p, "/v1/invoice_payments", render=lambda o: dict(o))


@api("POST", "/v1/invoices/{id}/pay")
def invoices_pay(req: Request) -> Obj:
    app, p = req.app, req.p
    p.allow("payment_method", "off_session", "paid_out_of_band", "forgive", "mandate", "source")
    invoice = app.get("invoice", req.args["id"])
    if invoice["status"] != "open":
        raise unexpected_state(f"Invoice is already {invoice['status']}.", "invoice_not_editable")
    if p.bool("paid_out_of_band"):
        _mark_paid(app, invoice, None)
        return app.render(invoice)
    sub = app.store.get(invoice.get("subscription") or "", "subscription")
    if p.str("payment_method"):
        pm: Obj | None = resolve_payment_method(app, p.req("payment_method"))
    else:
        pm = default_payment_method(app, sub) if sub else None
    if pm is None:
        raise StripeError(400, "This customer has no attached payment source or default payment method.",
                          code="resource_missing")
    open_pi = next((app.store.get(pay["payment"]["payment_intent"], "payment_intent")
                    for pay in invoice["_payments"] if pay["status"] == "open"), None)
    pi = pay_invoice(app, invoice, pm, off_session=bool(p.bool("off_session", True)), pi=open_pi)
    if invoice["status"] != "paid" and pi is not None and pi.get("last_payment_error"):
        err = pi["last_payment_error"]
        raise StripeError(402, err["message"], type="card_error", code=err.get("code"),
                          decline_code=err.get("decline_code"), extra={"payment_intent": app.render(pi)})
    return app.render(invoice)
