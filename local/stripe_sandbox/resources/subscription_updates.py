"""``POST``/``DELETE /v1/subscriptions/{id}`` and the writes of ``/v1/subscription_items``.

An update applies, in this order: plain fields, ``items`` (with prorations, see ``subscription_changes.py``),
``discounts``, ``trial_end``, ``pause_collection``; then ``always_invoice`` bills the prorations and one
``customer.subscription.updated`` announces everything that changed.
"""

from __future__ import annotations

from ..app import Obj, Sandbox, previous_attributes
from ..errors import invalid, unexpected_state
from ..forms import Params, metadata_update
from ..router import Request, api
from ._util import nullable_str
from .billing_periods import add_interval, proration_behaviour
from .discounts import Requested, materialize, parse_discounts
from .payment_methods import resolve_payment_method
from .subscription_changes import (
    ItemChange,
    apply_item_changes,
    change_items,
    change_moment,
    credit_unused_time,
    invoice_now,
    item_price,
    parse_item_changes,
    payment_behaviour,
    refuse_declining_card,
)
from .subscription_lifecycle import parse_pause_collection, parse_trial_end, send_trial_will_end
from .subscriptions_invoices import (
    cancel_subscription,
    create_invoice,
    default_payment_method,
    pay_invoice,
    period_end,
)

ENDED = ("canceled", "incomplete_expired")


def _set_period(app: Sandbox, sub: Obj, start: int, end: int) -> None:
    for item_id in sub["_items"]:
        app.get("subscription_item", item_id).update(current_period_start=start, current_period_end=end)


def end_trial_now(app: Sandbox, sub: Obj, now: int, off_session: bool) -> None:
    """``trial_end=now``: the billing cycle restarts now with a full-price invoice, charged at once."""
    if sub["status"] != "trialing":
        raise invalid("trial_end", "trial_end=now can only end the trial of a trialing subscription.")
    interval, count = sub["_interval"]
    end = add_interval(now, interval, count, 1)
    sub.update(status="active", trial_end=now, billing_cycle_anchor=now, _cycle=0)
    _set_period(app, sub, now, end)
    if not sub.get("_trial_will_end_sent"):
        send_trial_will_end(app, sub)
    lines = [(app.get("price", item["_price"]), item["quantity"], item["id"])
             for item in (app.get("subscription_item", i) for i in sub["_items"])]
    invoice = create_invoice(app, sub, "subscription_update", lines, (now, end), (now, now))
    sub["latest_invoice"] = invoice["id"]
    pay_invoice(app, invoice, default_payment_method(app, sub), off_session=off_session)


def move_trial_end(app: Sandbox, sub: Obj, trial_end: int, now: int, behaviour: str) -> None:
    """A new trial end: a trialing subscription's trial is moved; an active one starts a trial now (its unused
    time credited unless ``proration_behavior=none``)."""
    if sub["status"] not in ("trialing", "active"):
        raise invalid("trial_end", f"A {sub['status']} subscription cannot start a trial.")
    if sub["status"] == "active":
        if behaviour != "none":
            credit_unused_time(app, sub, now)
        sub.update(status="trialing", trial_start=now)
        _set_period(app, sub, now, trial_end)
    else:
        for item_id in sub["_items"]:
            app.get("subscription_item", item_id)["current_period_end"] = trial_end
    sub.update(trial_end=trial_end, billing_cycle_anchor=trial_end, _cycle=-1, _trial_will_end_sent=False)
    if trial_end - now <= 3 * 86400:
        send_trial_will_end(app, sub)


def _plain_fields(app: Sandbox, sub: Obj, p: Params) -> None:
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
    now = app.now_for(sub["customer"])
    if "cancel_at_period_end" in p:
        flag = bool(p.bool("cancel_at_period_end"))
        sub["cancel_at_period_end"] = flag
        if flag:
            sub.update(cancel_at=period_end(app, sub), canceled_at=now)
            sub["cancellation_details"]["reason"] = "cancellation_requested"
        else:
            sub.update(cancel_at=None, canceled_at=None)
            sub["cancellation_details"]["reason"] = None
    if "cancel_at" in p:
        cancel_at = p.int("cancel_at")
        if cancel_at is not None and cancel_at <= now:
            raise invalid("cancel_at", "cancel_at must be in the future.", "parameter_invalid_integer")
        sub.update(cancel_at=cancel_at, cancel_at_period_end=bool(cancel_at and cancel_at == period_end(app, sub)),
                   canceled_at=now if cancel_at else None)
        sub["cancellation_details"]["reason"] = "cancellation_requested" if cancel_at else None


def _requested_discounts(app: Sandbox, sub: Obj, p: Params) -> list[Requested]:
    subtotal = sum(app.get("price", item["_price"])["unit_amount"] * item["quantity"]
                   for item in (app.get("subscription_item", i) for i in sub["_items"]))
    return parse_discounts(app, p, "discounts", customer=sub["customer"], currency=sub["currency"],
                           subtotal=subtotal, existing=sub["discounts"])


def _replace_discounts(app: Sandbox, sub: Obj, requested: list[Requested]) -> None:
    """The subscription's discounts become ``requested``; ``{"discount": id}`` entries keep existing ones."""
    kept = {entry["id"] for entry in requested if not isinstance(entry, tuple)}
    for discount_id in sub["discounts"]:
        if discount_id not in kept:
            app.emit("customer.discount.deleted", app.get("discount", discount_id))
    sub["discounts"] = materialize(app, requested, start=app.now_for(sub["customer"]), customer=sub["customer"],
                                   subscription=sub["id"])


@api("POST", "/v1/subscriptions/{id}")
def subscriptions_update(req: Request) -> Obj:
    app, p = req.app, req.p
    p.allow("cancel_at_period_end", "metadata", "default_payment_method", "description", "cancellation_details",
            "proration_behavior", "proration_date", "cancel_at", "items", "trial_end", "pause_collection",
            "discounts", "payment_behavior", "off_session")
    sub = app.get("subscription", req.args["id"])
    if sub["status"] in ENDED and set(p.data) - {"metadata", "cancellation_details", "expand"}:
        raise unexpected_state("A canceled subscription can only update its cancellation_details and metadata.",
                               "subscription_unexpected_state")
    behaviour, payment = proration_behaviour(p), payment_behaviour(p)
    off_session = bool(p.bool("off_session", False))
    now = app.now_for(sub["customer"])
    at = change_moment(app, sub, p)
    changes = parse_item_changes(app, sub, p)
    trial_end = parse_trial_end(p, now, allow_days=False)
    pause = parse_pause_collection(p, now) if "pause_collection" in p else sub["pause_collection"]
    discounts = _requested_discounts(app, sub, p) if "discounts" in p else None
    if payment == "error_if_incomplete" and (behaviour == "always_invoice" or trial_end == "now"):
        refuse_declining_card(app, sub)
    before = app.render(sub)
    _plain_fields(app, sub, p)
    if changes:
        apply_item_changes(app, sub, changes, behaviour=behaviour, at=at)
    if discounts is not None:
        _replace_discounts(app, sub, discounts)
    if trial_end == "now":
        end_trial_now(app, sub, now, off_session)
    elif isinstance(trial_end, int):
        move_trial_end(app, sub, trial_end, now, behaviour)
    sub["pause_collection"] = pause
    if behaviour == "always_invoice":
        invoice_now(app, sub, at, payment=payment, off_session=off_session)
    prev = previous_attributes(before, app.render(sub))
    if prev:
        app.emit("customer.subscription.updated", sub, prev)
    return app.render(sub)


@api("DELETE", "/v1/subscriptions/{id}")
def subscriptions_cancel(req: Request) -> Obj:
    """Cancel now; ``prorate`` credits the unused time, ``invoice_now`` bills the pending items at once."""
    app, p = req.app, req.p
    p.allow("invoice_now", "prorate", "cancellation_details")
    sub = app.get("subscription", req.args["id"])
    if sub["status"] in ENDED:
        raise unexpected_state(f"This subscription has already been canceled ({sub['id']}).",
                               "subscription_unexpected_state")
    cd = p.sub("cancellation_details")
    cd.allow("comment", "feedback")
    now = app.now_for(sub["customer"])
    if p.bool("prorate"):
        credit_unused_time(app, sub, now)
    sub["canceled_at"] = None
    cancel_subscription(app, sub, comment=cd.str("comment"), feedback=cd.str("feedback"))
    if p.bool("invoice_now"):
        final = invoice_now(app, sub, now, payment="allow_incomplete", off_session=True)
        if final is not None:
            sub["latest_invoice"] = final["id"]
    return app.render(sub)


@api("POST", "/v1/subscription_items")
def subscription_items_create(req: Request) -> Obj:
    app, p = req.app, req.p
    p.allow("subscription", "price", "plan", "price_data", "quantity", "metadata", "proration_behavior",
            "proration_date", "payment_behavior")
    sub = app.get("subscription", p.req("subscription"), "subscription")
    price = item_price(app, sub, p, required=True)
    assert price is not None
    quantity = p.int("quantity", 1, minimum=0)
    assert quantity is not None
    existing = set(sub["_items"])
    change_items(app, sub, [ItemChange(None, price, quantity, metadata_update({}, p.raw("metadata")))], p)
    new_id = next(i for i in sub["_items"] if i not in existing)
    return app.render(app.get("subscription_item", new_id))


@api("POST", "/v1/subscription_items/{id}")
def subscription_items_update(req: Request) -> Obj:
    app, p = req.app, req.p
    p.allow("price", "plan", "price_data", "quantity", "metadata", "proration_behavior", "proration_date",
            "payment_behavior", "off_session")
    item = app.get("subscription_item", req.args["id"])
    sub = app.get("subscription", item["subscription"])
    price = item_price(app, sub, p, required=False) or app.get("price", item["_price"])
    quantity = p.int("quantity", item["quantity"], minimum=0)
    assert quantity is not None
    metadata = metadata_update(item["metadata"], p.raw("metadata")) if "metadata" in p else None
    change_items(app, sub, [ItemChange(item, price, quantity, metadata)], p)
    return app.render(item)


@api("DELETE", "/v1/subscription_items/{id}")
def subscription_items_delete(req: Request) -> Obj:
    app, p = req.app, req.p
    p.allow("proration_behavior", "proration_date", "payment_behavior")
    item = app.get("subscription_item", req.args["id"])
    sub = app.get("subscription", item["subscription"])
    change_items(app, sub, [ItemChange(item, None, 0)], p)
    return app.render(item)
