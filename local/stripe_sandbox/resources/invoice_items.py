"""Invoice items (``/v1/invoiceitems``): pending charges or credits swept onto a customer's next invoice.

Proration items (``proration: true``) come from subscription changes (``resources/subscription_changes.py``);
items created through the API work the same way. A subscription invoice takes every pending item of its
customer that names that subscription or no subscription; the item then points at the invoice and stays fixed.
"""

from __future__ import annotations

from ..app import Obj, Sandbox
from ..errors import invalid, unexpected_state
from ..forms import metadata_update
from ..router import Request, api, retrieve_route
from ..store import new_id
from ._util import nullable_str, update_with_event


def create_invoice_item(app: Sandbox, *, customer: str, amount: int, currency: str, description: str | None,
                        quantity: int = 1, price: Obj | None = None, subscription: str | None = None,
                        subscription_item: str | None = None, period: tuple[int, int] | None = None,
                        proration: bool = False, credited_items: Obj | None = None,
                        discounts: list[str] | None = None, discountable: bool = True,
                        metadata: dict[str, str] | None = None) -> Obj:
    now = app.now_for(customer)
    start, end = period or (now, now)
    cus = app.get("customer", customer)
    item: Obj = {
        "id": new_id("ii_"), "object": "invoiceitem", "amount": amount, "currency": currency, "customer": customer,
        "customer_account": None, "date": now, "description": description, "discountable": discountable,
        "discounts": list(discounts or []), "invoice": None, "invoicing_rules": [], "livemode": False,
        "metadata": metadata or {}, "net_amount": amount,
        "parent": ({"subscription_details": {"subscription": subscription, "subscription_item": subscription_item},
                    "type": "subscription_details"} if subscription else None),
        "period": {"end": end, "start": start},
        "pricing": ({"price_details": {"price": price["id"], "product": price["product"]}, "type": "price_details",
                     "unit_amount_decimal": price["unit_amount_decimal"]} if price else
                    {"price_details": None, "type": "price_details", "unit_amount_decimal": str(amount // quantity)}),
        "proration": proration,
        "proration_details": {"credited_items": credited_items,
                              "discount_amounts": [{"amount": 0, "discount": d} for d in discounts or []]},
        "quantity": quantity, "quantity_decimal": str(quantity), "tax_rates": [],
        "test_clock": cus.get("test_clock"),
    }
    app.add(item)
    app.emit("invoiceitem.created", item)
    return item


def pending_items(app: Sandbox, customer: str, subscription: str) -> list[Obj]:
    """The customer's pending items this subscription's next invoice takes, oldest first."""
    result = []
    for item in reversed(app.store.all("invoiceitem")):
        if item.get("_deleted") or item["invoice"] is not None or item["customer"] != customer:
            continue
        owner = (item["parent"] or {}).get("subscription_details") or {}
        if owner.get("subscription") in (None, subscription):
            result.append(item)
    return result


def item_line(app: Sandbox, invoice_id: str, item: Obj) -> Obj:
    """``item`` as a line of invoice ``invoice_id``; the item now belongs to that invoice."""
    item["invoice"] = invoice_id
    owner = (item["parent"] or {}).get("subscription_details") or {}
    credited = item["proration_details"]["credited_items"]
    line: Obj = {
        "id": new_id("il_"), "object": "line_item", "amount": item["amount"], "currency": item["currency"],
        "description": item["description"], "discount_amounts": [], "discountable": item["discountable"],
        "discounts": [], "invoice": invoice_id, "livemode": False, "metadata": dict(item["metadata"]),
        "parent": {
            "invoice_item_details": {
                "invoice_item": item["id"], "proration": item["proration"],
                "proration_details": {"credited_items": (
                    credited["invoice_line_item_details"] if credited and credited["type"] == "invoice_line_items"
                    else None)},
                "subscription": owner.get("subscription"),
            },
            "subscription_item_details": None,
            "type": "invoice_item_details",
        },
        "period": dict(item["period"]), "pretax_credit_amounts": [], "pricing": item["pricing"],
        "quantity": item["quantity"], "quantity_decimal": item["quantity_decimal"],
        "subscription": owner.get("subscription"), "subtotal": item["amount"], "taxes": [],
    }
    if item["proration"] and item["discounts"]:
        # classic billing mode: the proration amount already includes the subscription's discounts
        line["discounts"] = list(item["discounts"])
        line["discount_amounts"] = [{"amount": 0, "discount": d} for d in item["discounts"]]
        line["_discounts_included"] = True
    return line


@api("POST", "/v1/invoiceitems")
def invoice_items_create(req: Request) -> Obj:
    app, p = req.app, req.p
    p.allow("customer", "amount", "currency", "description", "pricing", "quantity", "subscription", "period",
            "metadata", "discountable")
    customer = app.get("customer", p.req("customer"), "customer")
    quantity = p.int("quantity", 1, minimum=1) or 1
    pricing = p.sub("pricing")
    pricing.allow("price")
    price = None
    if pricing.str("price"):
        if "amount" in p:
            raise invalid("amount", "You may only specify one of these parameters: amount, pricing[price].")
        price = app.get("price", pricing.req("price"), "pricing[price]")
        if price["recurring"]:
            raise invalid("pricing[price]", "The price specified is set to `type=recurring` but this field only "
                          "accepts prices with `type=one_time`.")
        amount, currency = price["unit_amount"] * quantity, price["currency"]
    else:
        amount = p.int("amount", required=True)
        assert amount is not None
        currency = p.currency() or "usd"
    sub = app.get("subscription", p.req("subscription"), "subscription") if p.str("subscription") else None
    if sub is not None and sub["customer"] != customer["id"]:
        raise invalid("subscription", "The subscription belongs to another customer.")
    period = None
    if "period" in p:
        pp = p.sub("period")
        pp.allow("start", "end")
        start, end = pp.int("start", required=True), pp.int("end", required=True)
        assert start is not None
        assert end is not None
        if end < start:
            raise invalid("period[end]", "The period end must be on or after its start.", "parameter_invalid_integer")
        period = (start, end)
    item = create_invoice_item(
        app, customer=customer["id"], amount=amount, currency=currency, description=p.str("description"),
        quantity=quantity, price=price, subscription=sub["id"] if sub else None, period=period,
        discountable=bool(p.bool("discountable", amount >= 0)), metadata=metadata_update({}, p.raw("metadata")))
    return app.render(item)


retrieve_route("/v1/invoiceitems/{id}", "invoiceitem")


def _pending(item: Obj) -> Obj:
    if item["invoice"] is not None:
        raise unexpected_state(f"This invoice item is already on invoice {item['invoice']} and can no longer be "
                               "changed.", "invoice_not_editable")
    return item


@api("POST", "/v1/invoiceitems/{id}")
def invoice_items_update(req: Request) -> Obj:
    app, p = req.app, req.p
    p.allow("description", "metadata", "discountable")
    item = _pending(app.get("invoiceitem", req.args["id"]))

    def mutate() -> None:
        if "description" in p:
            item["description"] = nullable_str(p.raw("description"), "description")
        if "discountable" in p:
            item["discountable"] = bool(p.bool("discountable"))
        item["metadata"] = metadata_update(item["metadata"], p.raw("metadata"))

    return app.render(update_with_event(app, item, mutate))


@api("DELETE", "/v1/invoiceitems/{id}")
def invoice_items_delete(req: Request) -> Obj:
    app = req.app
    item = _pending(app.get("invoiceitem", req.args["id"]))
    app.emit("invoiceitem.deleted", item)
    item["_deleted"] = True
    return app.render(item)


@api("GET", "/v1/invoiceitems")
def invoice_items_list(req: Request) -> Obj:
    app, p = req.app, req.p
    objs = app.store.all("invoiceitem")
    if p.str("customer"):
        objs = [o for o in objs if o["customer"] == p.str("customer")]
    if p.str("invoice"):
        objs = [o for o in objs if o["invoice"] == p.str("invoice")]
    pending = p.bool("pending")
    if pending is not None:
        objs = [o for o in objs if (o["invoice"] is None) == pending]
    return app.list_response(objs, p, "/v1/invoiceitems")
