"""Subscriptions, subscription items, invoices and renewals (driven by test clocks).

In the pinned API version the billing period lives on subscription items
(``items.data[].current_period_start/end``) and an invoice points at its
subscription through ``parent.subscription_details.subscription``; the legacy
top-level ``invoice.subscription`` is also filled in for convenience.
"""

from __future__ import annotations

import calendar
import contextlib
from datetime import UTC, datetime
from typing import Any

from .. import cards
from ..app import RENDERERS, VIRTUAL_EXPANDS, Obj, Sandbox, previous_attributes
from ..errors import StripeError, invalid, unexpected_state
from ..forms import Params, metadata_update
from ..router import Request, api, retrieve_route
from ..store import new_id
from . import payment_intents as pis
from ._util import nullable_str
from .payment_methods import card_error, card_of, resolve_payment_method

INCOMPLETE_EXPIRY = 23 * 3600
PAYMENT_BEHAVIOURS = ("allow_incomplete", "default_incomplete", "error_if_incomplete", "pending_if_incomplete")


def add_interval(anchor: int, interval: str, count: int, n: int) -> int:
    """``anchor`` plus ``n`` billing intervals, clamping month ends like Stripe (Jan 31 -> Feb 28)."""
    if interval == "day":
        return anchor + 86400 * count * n
    if interval == "week":
        return anchor + 7 * 86400 * count * n
    dt = datetime.fromtimestamp(anchor, UTC)
    months = count * n * (12 if interval == "year" else 1)
    years, month0 = divmod(dt.month - 1 + months, 12)
    year, month = dt.year + years, month0 + 1
    day = min(dt.day, calendar.monthrange(year, month)[1])
    return int(dt.replace(year=year, month=month, day=day).timestamp())


def _plan(price: Obj) -> Obj:
    rec = price["recurring"] or {}
    return {
        "id": price["id"], "object": "plan", "active": price["active"], "amount": price["unit_amount"],
        "amount_decimal": price["unit_amount_decimal"], "billing_scheme": "per_unit", "created": price["created"],
        "currency": price["currency"], "interval": rec.get("interval"), "interval_count": rec.get("interval_count"),
        "livemode": False, "metadata": price["metadata"], "meter": None, "nickname": price["nickname"],
        "product": price["product"], "tiers_mode": None, "transform_usage": None,
        "trial_period_days": rec.get("trial_period_days"), "usage_type": "licensed",
    }


def _render_item(app: Sandbox, obj: Obj, out: Obj) -> None:
    price = app.get("price", obj["_price"])
    out["price"] = app.render(price)
    out["plan"] = _plan(price)


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
def _line(app: Sandbox, invoice_id: str, sub: Obj, price: Obj, quantity: int, start: int, end: int,
          item_id: str | None) -> Obj:
    product = app.store.get(price["product"], "product") or {}
    amount = price["unit_amount"] * quantity
    if price["recurring"]:
        per = price["recurring"]["interval"]
        name = product.get("name", "Item")
        unit = f"{price['unit_amount'] / 100:.2f} {price['currency'].upper()}"
        description = f"{quantity} × {name} (at {unit} / {per})"  # noqa: RUF001
    else:
        description = f"{quantity} × {product.get('name', 'Item')}"  # noqa: RUF001
    return {
        "id": new_id("il_"), "object": "line_item", "amount": amount, "currency": price["currency"],
        "description": description, "discount_amounts": [], "discountable": True, "discounts": [],
        "invoice": invoice_id, "livemode": False, "metadata": {},
        "parent": {
            "invoice_item_details": None,
            "subscription_item_details": {"invoice_item": None, "proration": False,
                                          "proration_details": {"credited_items": None},
                                          "subscription": sub["id"], "subscription_item": item_id},
            "type": "subscription_item_details",
        },
        "period": {"end": end, "start": start},
        "pretax_credit_amounts": [],
        "pricing": {"price_details": {"price": price["id"], "product": price["product"]},
                    "type": "price_details", "unit_amount_decimal": price["unit_amount_decimal"]},
        "quantity": quantity, "quantity_decimal": str(quantity), "subscription": sub["id"], "subtotal": amount,
        "taxes": [],
    }


def create_invoice(app: Sandbox, sub: Obj, billing_reason: str, lines: list[tuple[Obj, int, str | None]],
                   line_period: tuple[int, int], invoice_period: tuple[int, int]) -> Obj:
    customer = app.get("customer", sub["customer"], allow_deleted=True)
    inv_id = new_id("in_")
    line_objs = [_line(app, inv_id, sub, price, qty, line_period[0], line_period[1] if price["recurring"]
                       else line_period[0], item_id) for price, qty, item_id in lines]
    total = sum(line["amount"] for line in line_objs)
    now = app.now_for(customer["id"])
    invoice: Obj = {
        "id": inv_id, "object": "invoice", "account_country": "US", "account_name": "Stripe Sandbox",
        "account_tax_ids": None, "amount_due": total, "amount_overpaid": 0, "amount_paid": 0,
        "amount_paid_off_stripe": 0, "amount_remaining": total, "amount_shipping": 0, "application": None,
        "attempt_count": 0, "attempted": False, "auto_advance": True,
        "automatic_tax": {"disabled_reason": None, "enabled": False, "liability": None, "provider": None,
                          "status": None},
        "automatically_finalizes_at": None, "billing_reason": billing_reason,
        "collection_method": "charge_automatically", "confirmation_secret": None, "created": now,
        "currency": sub["currency"], "custom_fields": None, "customer": customer["id"], "customer_account": None,
        "customer_address": customer.get("address"), "customer_email": customer.get("email"),
        "customer_name": customer.get("name"), "customer_phone": customer.get("phone"),
        "customer_shipping": None, "customer_tax_exempt": "none", "customer_tax_ids": [],
        "default_payment_method": None, "default_source": None, "default_tax_rates": [], "description": None,
        "discounts": [], "due_date": None, "effective_at": None, "ending_balance": None, "footer": None,
        "from_invoice": None, "hosted_invoice_url": None, "invoice_pdf": None, "issuer": {"type": "self"},
        "last_finalization_error": None, "latest_revision": None,
        "lines": {"object": "list", "data": line_objs, "has_more": False, "url": f"/v1/invoices/{inv_id}/lines"},
        "livemode": False, "metadata": {}, "next_payment_attempt": None, "number": None, "on_behalf_of": None,
        "parent": {"quote_details": None,
                   "subscription_details": {"metadata": dict(sub["metadata"]), "subscription": sub["id"]},
                   "type": "subscription_details"},
        "payment_settings": {"default_mandate": None, "payment_method_options": None,
                             "payment_method_types": None},
        "period_end": invoice_period[1], "period_start": invoice_period[0],
        "post_payment_credit_notes_amount": 0, "pre_payment_credit_notes_amount": 0, "receipt_number": None,
        "rendering": None, "shipping_cost": None, "shipping_details": None, "starting_balance": 0,
        "statement_descriptor": None, "status": "draft",
        "status_transitions": {"finalized_at": None, "marked_uncollectible_at": None, "paid_at": None,
                               "voided_at": None},
        "subscription": sub["id"],  # legacy location, kept for convenience
        "subtotal": total, "subtotal_excluding_tax": total, "test_clock": customer.get("test_clock"),
        "total": total, "total_discount_amounts": [], "total_excluding_tax": total,
        "total_pretax_credit_amounts": [], "total_taxes": [], "webhooks_delivered_at": now,
        "_payments": [],
    }
    app.add(invoice)
    app.emit("invoice.created", invoice)
    # finalize immediately (Stripe waits ~1 hour for renewals; a test clock skips over that anyway)
    customer["next_invoice_sequence"] = int(customer.get("next_invoice_sequence") or 1) + 1
    invoice.update(status="open", number=f"{customer['invoice_prefix']}-{customer['next_invoice_sequence'] - 1:04d}",
                   effective_at=now)
    invoice["status_transitions"]["finalized_at"] = now
    app.emit("invoice.finalized", invoice)
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
        pi = invoice_payment_intent(app, invoice, "Subscription update" if invoice["billing_reason"]
                                    == "subscription_cycle" else "Subscription creation", {})
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
    description: str | None = None,
    internal: dict[str, Any] | None = None,
) -> Obj:
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
    end = add_interval(start, interval, count, 1)
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
        "billing_cycle_anchor": start, "billing_cycle_anchor_config": None,
        "billing_mode": {"flexible": None, "type": "classic", "updated_at": None}, "billing_schedules": [],
        "billing_thresholds": None, "cancel_at": end if cancel_at_period_end else None,
        "cancel_at_period_end": cancel_at_period_end, "canceled_at": start if cancel_at_period_end else None,
        "cancellation_details": {"comment": None, "feedback": None,
                                 "reason": "cancellation_requested" if cancel_at_period_end else None},
        "collection_method": "charge_automatically", "created": start, "currency": currencies.pop(),
        "customer": customer["id"], "customer_account": None, "days_until_due": None,
        "default_payment_method": default_pm["id"] if default_pm else None, "default_source": None,
        "default_tax_rates": [], "description": description, "discounts": [], "ended_at": None,
        "invoice_settings": {"account_tax_ids": None, "issuer": {"type": "self"}}, "latest_invoice": None,
        "livemode": False, "managed_payments": None, "metadata": metadata or {},
        "next_pending_invoice_item_invoice": None, "on_behalf_of": None, "pause_collection": None,
        "payment_settings": {"payment_method_options": None, "payment_method_types": None,
                             "save_default_payment_method": "off"},
        "pending_invoice_item_interval": None, "pending_setup_intent": None, "pending_update": None,
        "schedule": None, "start_date": start, "status": "incomplete", "test_clock": customer.get("test_clock"),
        "transfer_data": None, "trial_end": None,
        "trial_settings": {"end_behavior": {"missing_payment_method": "create_invoice"}}, "trial_start": None,
        "_items": [i["id"] for i in item_objs], "_interval": [interval, count], "_cycle": 0,
        **(internal or {}),
    }
    app.add(sub)
    app.emit("customer.subscription.created", sub)
    lines: list[tuple[Obj, int, str | None]] = [(price, qty, item["id"])
                                                for (price, qty, _), item in zip(items, item_objs, strict=True)]
    lines += [(price, qty, None) for price, qty in one_time or []]
    invoice = create_invoice(app, sub, "subscription_create", lines, (start, end), (start, start))
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
    interval, count = sub["_interval"]
    before = app.render(sub)
    old_start, old_end = period_start(app, sub), period_end(app, sub)
    sub["_cycle"] += 1
    new_end = add_interval(sub["billing_cycle_anchor"], interval, count, sub["_cycle"] + 1)
    for item_id in sub["_items"]:
        app.get("subscription_item", item_id).update(current_period_start=old_end, current_period_end=new_end)
    lines: list[tuple[Obj, int, str | None]] = []
    for item_id in sub["_items"]:
        item = app.get("subscription_item", item_id)
        lines.append((app.get("price", item["_price"]), item["quantity"], item_id))
    invoice = create_invoice(app, sub, "subscription_cycle", lines, (old_end, new_end), (old_start, old_end))
    sub["latest_invoice"] = invoice["id"]
    app.emit("customer.subscription.updated", sub, previous_attributes(before, app.render(sub)))
    pay_invoice(app, invoice, default_payment_method(app, sub), off_session=True)


def advance_clock(app: Sandbox, clock: Obj, target: int) -> None:
    """Run every subscription of the clock's customers through the period boundaries up to ``target``."""
    customers = {c["id"] for c in app.store.all("customer") if c.get("test_clock") == clock["id"]}
    while True:
        due: list[tuple[int, int, Obj]] = []
        for n, sub in enumerate(reversed(app.store.all("subscription"))):
            if sub["customer"] not in customers:
                continue
            if sub["status"] == "incomplete" and sub["created"] + INCOMPLETE_EXPIRY <= target:
                due.append((sub["created"] + INCOMPLETE_EXPIRY, n, sub))
            elif sub["status"] in ("active", "past_due"):
                end = period_end(app, sub)
                if sub.get("cancel_at") and sub["cancel_at"] <= target and sub["cancel_at"] <= end:
                    due.append((sub["cancel_at"], n, sub))
                elif end <= target:
                    due.append((end, n, sub))
        if not due:
            break
        when, _, sub = min(due, key=lambda d: (d[0], d[1]))
        clock["frozen_time"] = when
        if sub["status"] == "incomplete":
            _set_status(app, sub, "incomplete_expired")
        elif sub.get("cancel_at") and sub["cancel_at"] <= when:
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
        ip.allow("price", "quantity", "metadata", "price_data", "tax_rates", "discounts")
        if "price_data" in ip:
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
            "add_invoice_items")
    customer = app.get("customer", p.req("customer"), "customer")
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
    sub = create_subscription(
        app, customer, items, one_time=one_time, default_pm=pm, metadata=metadata_update({}, p.raw("metadata")),
        payment_behavior=behaviour, off_session=bool(p.bool("off_session", False)),
        cancel_at_period_end=bool(p.bool("cancel_at_period_end", False)), description=p.str("description"))
    return app.render(sub)


retrieve_route("/v1/subscriptions/{id}", "subscription")


@api("POST", "/v1/subscriptions/{id}")
def subscriptions_update(req: Request) -> Obj:
    app, p = req.app, req.p
    p.allow("cancel_at_period_end", "metadata", "default_payment_method", "description", "cancellation_details",
            "proration_behavior", "cancel_at")
    sub = app.get("subscription", req.args["id"])
    if sub["status"] in ("canceled", "incomplete_expired") and set(p.data) - {"metadata", "cancellation_details",
                                                                             "expand"}:
        raise unexpected_state("A canceled subscription can only update its cancellation_details and metadata.",
                               "subscription_unexpected_state")
    before = app.render(sub)
    if "metadata" in p:
        sub["metadata"] = metadata_update(sub["metadata"], p.raw("metadata"))
    if "description" in p:
        sub["description"] = nullable_str(p.raw("description"), "description")
    if "default_payment_method" in p:
        pm_id = p.str("default_payment_method")
        if pm_id:
            pm = resolve_payment_method(app, pm_id, "default_payment_method")
            if pm.get("customer") != sub["customer"]:
                raise invalid("default_payment_method", "The customer does not have a payment method with the ID "
                              f"{pm['id']}. The payment method must be attached to the customer.", "resource_missing")
            pm_id = pm["id"]
        sub["default_payment_method"] = pm_id
    if "cancellation_details" in p:
        cd = p.sub("cancellation_details")
        cd.allow("comment", "feedback")
        sub["cancellation_details"] = {**sub["cancellation_details"], "comment": cd.str("comment"),
                                       "feedback": cd.str("feedback")}
    if "cancel_at_period_end" in p:
        flag = bool(p.bool("cancel_at_period_end"))
        sub["cancel_at_period_end"] = flag
        if flag:
            sub.update(cancel_at=period_end(app, sub), canceled_at=app.now_for(sub["customer"]))
            sub["cancellation_details"]["reason"] = "cancellation_requested"
        else:
            sub.update(cancel_at=None, canceled_at=None)
            sub["cancellation_details"]["reason"] = None
    if "cancel_at" in p:
        cancel_at = p.int("cancel_at")
        sub.update(cancel_at=cancel_at, cancel_at_period_end=bool(cancel_at and cancel_at == period_end(app, sub)),
                   canceled_at=app.now_for(sub["customer"]) if cancel_at else None)
    prev = previous_attributes(before, app.render(sub))
    if prev:
        app.emit("customer.subscription.updated", sub, prev)
    return app.render(sub)


@api("DELETE", "/v1/subscriptions/{id}")
def subscriptions_cancel(req: Request) -> Obj:
    app, p = req.app, req.p
    p.allow("invoice_now", "prorate", "cancellation_details")
    sub = app.get("subscription", req.args["id"])
    if sub["status"] in ("canceled", "incomplete_expired"):
        raise unexpected_state(f"This subscription has already been canceled ({sub['id']}).",
                               "subscription_unexpected_state")
    cd = p.sub("cancellation_details")
    sub["canceled_at"] = None
    cancel_subscription(app, sub, comment=cd.str("comment"), feedback=cd.str("feedback"))
    return app.render(sub)


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
