"""Changing a subscription's items (price, quantity, added, removed) and the prorations that produces.

Proration is Stripe's time-based one, to the second, from the change moment ``at`` (``proration_date``, default
now) to the end of the current period:

* credit for the unused time on the old price:   ``-round(old_amount * (end - at) / (end - start))``
* debit for the remaining time on the new price: ``+round(new_amount * (end - at) / (end - start))``

``*_amount`` is ``unit_amount * quantity`` less the subscription's active percent-off discounts (classic billing
mode includes discounts in proration amounts). Each becomes a pending ``invoiceitem`` with ``proration: true``
that the next invoice takes; with ``always_invoice`` that invoice is created and charged at once. Nothing is
prorated during a trial or with ``proration_behavior=none``.
"""

from __future__ import annotations

from dataclasses import dataclass

from .. import cards
from ..app import Obj, Sandbox, previous_attributes
from ..errors import invalid, unexpected_state
from ..forms import Params, metadata_update
from ..store import new_id
from .billing_periods import day_label, prorated, proration_behaviour
from .discounts import is_active, percent_off_total
from .invoice_items import create_invoice_item, pending_items
from .payment_methods import card_error, card_of
from .plans import item_plan
from .products_prices import create_price
from .subscriptions_invoices import (
    create_invoice,
    default_payment_method,
    invoice_payment_intent,
    pay_invoice,
    period_end,
    period_start,
)

UPDATE_PAYMENT_BEHAVIOURS = ("allow_incomplete", "default_incomplete", "error_if_incomplete")


@dataclass
class ItemChange:
    """One requested change: ``item`` None adds an item, ``price`` None removes ``item``."""

    item: Obj | None
    price: Obj | None
    quantity: int
    metadata: dict[str, str] | None = None


def payment_behaviour(p: Params) -> str:
    value = p.str("payment_behavior", "allow_incomplete")
    if value not in UPDATE_PAYMENT_BEHAVIOURS:
        raise invalid("payment_behavior", "The sandbox supports payment_behavior allow_incomplete, "
                      "default_incomplete and error_if_incomplete on updates.", "parameter_invalid_string")
    return str(value)


def change_moment(app: Sandbox, sub: Obj, p: Params) -> int:
    """``proration_date`` (within the current period) or the customer's now."""
    at = p.int("proration_date")
    if at is None:
        return app.now_for(sub["customer"])
    if not period_start(app, sub) <= at <= period_end(app, sub):
        raise invalid("proration_date", "proration_date must be within the subscription's current billing period.",
                      "parameter_invalid_integer")
    return at


def check_price(app: Sandbox, sub: Obj, price: Obj, param: str) -> None:
    if not price["recurring"]:
        raise invalid(param, "The price specified is set to `type=one_time` but this field only accepts prices "
                      "with `type=recurring`.")
    if not price["active"]:
        raise invalid(param, "The price specified is inactive. This field only accepts active prices.")
    if price["currency"] != sub["currency"]:
        raise invalid(param, "All prices on a subscription must have the same currency.")
    if [price["recurring"]["interval"], price["recurring"]["interval_count"]] != list(sub["_interval"]):
        raise invalid(param, "The sandbox does not support changing a subscription's billing interval: every "
                      "price must have the subscription's interval and interval_count.")


def _label(app: Sandbox, price: Obj, quantity: int) -> str:
    name = (app.store.get(price["product"], "product") or {}).get("name", "Item")
    return name if quantity == 1 else f"{quantity} × {name}"  # noqa: RUF001


def _credited_lines(app: Sandbox, sub: Obj, item_id: str) -> Obj | None:
    invoice = app.store.get(sub.get("latest_invoice") or "", "invoice")
    if invoice is None:
        return None
    lines = [line["id"] for line in invoice["lines"]["data"]
             if ((line["parent"] or {}).get("subscription_item_details") or {}).get("subscription_item") == item_id]
    if not lines:
        return None
    return {"invoice_item": None, "type": "invoice_line_items",
            "invoice_line_item_details": {"invoice": invoice["id"], "invoice_line_items": lines}}


def _prorate(app: Sandbox, sub: Obj, item_id: str, price: Obj, quantity: int, at: int, credit: bool) -> None:
    start, end = period_start(app, sub), period_end(app, sub)
    discounts = [d for d in sub["discounts"] if is_active(app.get("discount", d), at)]
    full = (1 - percent_off_total(app, discounts, at)) * price["unit_amount"] * quantity
    amount = prorated(full, start, end, at)
    word = "Unused" if credit else "Remaining"
    create_invoice_item(
        app, customer=sub["customer"], amount=-amount if credit else amount, currency=sub["currency"],
        description=f"{word} time on {_label(app, price, quantity)} after {day_label(at)}", quantity=quantity,
        price=price, subscription=sub["id"], subscription_item=item_id, period=(at, end), proration=True,
        credited_items=_credited_lines(app, sub, item_id) if credit else None, discounts=discounts,
        discountable=False)


def _new_item(app: Sandbox, sub: Obj, price: Obj, quantity: int, metadata: dict[str, str], at: int) -> Obj:
    item: Obj = {"id": new_id("si_", 14), "object": "subscription_item", "billing_thresholds": None, "created": at,
                 "current_period_end": period_end(app, sub), "current_period_start": period_start(app, sub),
                 "discounts": [], "metadata": metadata, "quantity": quantity, "subscription": sub["id"],
                 "tax_rates": [], "_price": price["id"]}
    app.add(item)
    sub["_items"].append(item["id"])
    return item


def _check_outcome(app: Sandbox, sub: Obj, changes: list[ItemChange]) -> None:
    """Refuse, before anything changes, an outcome without items or with one price twice."""
    prices = {item_id: app.get("subscription_item", item_id)["_price"] for item_id in sub["_items"]}
    for n, change in enumerate(changes):
        key = change.item["id"] if change.item else f"new{n}"
        if change.price is None:
            prices.pop(key, None)
        else:
            prices[key] = change.price["id"]
    if not prices:
        raise invalid("items", "A subscription must have at least one active plan. To cancel a subscription, please "
                      "use the cancel API endpoint on /v1/subscriptions.")
    if len(set(prices.values())) != len(prices):
        raise invalid("items", "Cannot add multiple subscription items with the same price.")


def apply_item_changes(app: Sandbox, sub: Obj, changes: list[ItemChange], *, behaviour: str, at: int) -> None:
    """Mutate the items; create the proration invoice items unless ``behaviour`` is ``none`` or in a trial."""
    if sub["status"] in ("canceled", "incomplete_expired"):
        raise unexpected_state("A canceled subscription's items cannot be changed.", "subscription_unexpected_state")
    _check_outcome(app, sub, changes)
    prorate = behaviour != "none" and sub["status"] != "trialing" and at < period_end(app, sub)
    for change in changes:
        old = (app.get("price", change.item["_price"]), change.item["quantity"]) if change.item else None
        if change.price is None:
            assert change.item is not None
            change.item["_deleted"] = True
            sub["_items"].remove(change.item["id"])
            item_id = change.item["id"]
        elif change.item is None:
            item_id = _new_item(app, sub, change.price, change.quantity, change.metadata or {}, at)["id"]
        else:
            change.item.update(_price=change.price["id"], quantity=change.quantity)
            if change.metadata is not None:
                change.item["metadata"] = change.metadata
            item_id = change.item["id"]
        new = (change.price, change.quantity) if change.price is not None else None
        if not prorate or (old and new and old[0]["id"] == new[0]["id"] and old[1] == new[1]):
            continue
        if old:
            _prorate(app, sub, item_id, old[0], old[1], at, credit=True)
        if new:
            _prorate(app, sub, item_id, new[0], new[1], at, credit=False)


def refuse_declining_card(app: Sandbox, sub: Obj) -> None:
    """``payment_behavior=error_if_incomplete``: a card that will decline fails the request before any change."""
    card = card_of(default_payment_method(app, sub) or {})
    if card is not None and card.behaviour in (cards.DECLINE, cards.CHARGE_FAIL):
        raise card_error(card)


def invoice_now(app: Sandbox, sub: Obj, at: int, *, payment: str, off_session: bool) -> Obj | None:
    """``always_invoice``: an invoice with the subscription's pending items, finalized and charged now."""
    if not pending_items(app, sub["customer"], sub["id"]):
        return None
    invoice = create_invoice(app, sub, "subscription_update", [], (at, at), (at, at))
    sub["latest_invoice"] = invoice["id"]
    if payment == "default_incomplete" and invoice["amount_due"]:
        pi = invoice_payment_intent(app, invoice, "Subscription update", {})
        pm = default_payment_method(app, sub)
        if pm is not None:
            pi.update(payment_method=pm["id"], status="requires_confirmation")
        return invoice
    pay_invoice(app, invoice, default_payment_method(app, sub), off_session=off_session)
    return invoice


def parse_item_changes(app: Sandbox, sub: Obj, p: Params) -> list[ItemChange]:
    """``items[i][id|price|price_data|quantity|metadata|deleted]`` of a subscription update."""
    changes = []
    for i, entry in enumerate(p.list("items")):
        ip = Params(entry if isinstance(entry, dict) else {}, f"items[{i}]")
        ip.allow("id", "price", "plan", "price_data", "quantity", "metadata", "deleted")
        item = app.get("subscription_item", ip.req("id"), f"items[{i}][id]") if ip.str("id") else None
        if item is not None and item["subscription"] != sub["id"]:
            raise invalid(f"items[{i}][id]", f"The subscription item {item['id']} belongs to another subscription.")
        if ip.bool("deleted"):
            if item is None:
                raise invalid(f"items[{i}][id]", "Missing required param: items[][id] (to delete an item).",
                              "parameter_missing")
            changes.append(ItemChange(item, None, 0))
            continue
        price = item_price(app, sub, ip, required=item is None)
        if price is None:
            assert item is not None
            price = app.get("price", item["_price"])
        quantity = ip.int("quantity", item["quantity"] if item else 1, minimum=0)
        assert quantity is not None
        metadata = metadata_update(item["metadata"] if item else {}, ip.raw("metadata"), f"items[{i}][metadata]") \
            if "metadata" in ip or item is None else None
        changes.append(ItemChange(item, price, quantity, metadata))
    return changes


def item_price(app: Sandbox, sub: Obj, ip: Params, *, required: bool) -> Obj | None:
    """``price``, ``price_data`` or (legacy) ``plan`` of an item entry, checked against the subscription."""
    plan = item_plan(app, ip)
    if plan is not None:
        price = plan
    elif "price_data" in ip:
        pd = ip.sub("price_data")
        pd.allow("currency", "product", "recurring", "unit_amount", "unit_amount_decimal", "tax_behavior")
        price = create_price(app, pd)
    elif ip.str("price") or required:
        price = app.get("price", ip.req("price"), ip.name("price"))
    else:
        return None
    check_price(app, sub, price, ip.name("price"))
    return price



def credit_unused_time(app: Sandbox, sub: Obj, at: int) -> None:
    """A proration credit for every item's unused time from ``at`` to the period end (cancel with ``prorate``)."""
    if sub["status"] == "trialing" or at >= period_end(app, sub):
        return
    for item_id in sub["_items"]:
        item = app.get("subscription_item", item_id)
        _prorate(app, sub, item_id, app.get("price", item["_price"]), item["quantity"], at, credit=True)


def change_items(app: Sandbox, sub: Obj, changes: list[ItemChange], p: Params) -> None:
    """The ``/v1/subscription_items`` routes: apply, prorate per ``proration_behavior``, announce the update."""
    behaviour = proration_behaviour(p)
    payment = payment_behaviour(p)
    at = change_moment(app, sub, p)
    if payment == "error_if_incomplete" and behaviour == "always_invoice":
        refuse_declining_card(app, sub)
    before = app.render(sub)
    apply_item_changes(app, sub, changes, behaviour=behaviour, at=at)
    if behaviour == "always_invoice":
        invoice_now(app, sub, at, payment=payment, off_session=bool(p.bool("off_session", False)))
    prev = previous_attributes(before, app.render(sub))
    if prev:
        app.emit("customer.subscription.updated", sub, prev)
