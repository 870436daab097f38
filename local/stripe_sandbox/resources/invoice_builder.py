"""Building subscription invoices: line items, discount amounts, totals, the customer balance, finalization.

Totals follow Stripe: ``subtotal`` is the sum of the line amounts, ``total = subtotal - discounts``; at
finalization the customer's balance is applied (a credit lowers ``amount_due``; a negative total becomes a
credit), and an amount due below the currency's minimum charge is carried to the balance as Stripe does.
"""

from __future__ import annotations

from typing import Any

from ..app import Obj, Sandbox
from ..store import new_id
from .discounts import allocate, is_active
from .payment_intents import MINIMUMS


def price_line(app: Sandbox, invoice_id: str, sub: Obj, price: Obj, quantity: int, start: int, end: int,
               item_id: str | None, *, amount: int | None = None, description: str | None = None) -> Obj:
    """A subscription-item line (or one of ``add_invoice_items``); ``amount`` overrides the price (trials)."""
    product = app.store.get(price["product"], "product") or {}
    if amount is None:
        amount = price["unit_amount"] * quantity
    if description is None:
        if price["recurring"]:
            per = price["recurring"]["interval"]
            unit = f"{price['unit_amount'] / 100:.2f} {price['currency'].upper()}"
            description = f"{quantity} × {product.get('name', 'Item')} (at {unit} / {per})"  # noqa: RUF001
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


def _apply_discounts(app: Sandbox, lines: list[Obj], discounts: list[Obj]) -> list[dict[str, Any]]:
    """Fill each line's ``discounts``/``discount_amounts``; returns the invoice's ``total_discount_amounts``.

    Proration lines already include the subscription's discounts (Stripe's classic billing mode): they list the
    discount ids with amount 0 and are not discounted again.
    """
    open_lines = [line for line in lines if not line.get("_discounts_included")]
    shares = allocate(app, [{"amount": line["amount"], "discountable": line["discountable"],
                             "product": (line["pricing"].get("price_details") or {}).get("product")}
                            for line in open_lines], discounts)
    totals = {d["id"]: 0 for d in discounts}
    for line, line_shares in zip(open_lines, shares, strict=True):
        line["discounts"] = [discount_id for discount_id, _ in line_shares]
        line["discount_amounts"] = [{"amount": amount, "discount": discount_id} for discount_id, amount in line_shares]
        for discount_id, amount in line_shares:
            totals[discount_id] += amount
    return [{"amount": amount, "discount": discount_id} for discount_id, amount in totals.items()]


def build_invoice(app: Sandbox, sub: Obj, invoice_id: str, billing_reason: str, lines: list[Obj],
                  invoice_period: tuple[int, int]) -> Obj:
    """A draft invoice for ``sub`` with ``lines``, discounted by the subscription's active discounts."""
    customer = app.get("customer", sub["customer"], allow_deleted=True)
    now = app.now_for(customer["id"])
    discounts = [d for d in (app.get("discount", i) for i in sub.get("discounts") or []) if is_active(d, now)]
    discount_totals = _apply_discounts(app, lines, discounts)
    subtotal = sum(line["amount"] for line in lines)
    total = subtotal - sum(d["amount"] for d in discount_totals)
    invoice: Obj = {
        "id": invoice_id, "object": "invoice", "account_country": "US", "account_name": "Stripe Sandbox",
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
        "discounts": [d["id"] for d in discounts], "due_date": None, "effective_at": None, "ending_balance": None,
        "footer": None, "from_invoice": None, "hosted_invoice_url": None, "invoice_pdf": None,
        "issuer": {"type": "self"}, "last_finalization_error": None, "latest_revision": None,
        "lines": {"object": "list", "data": lines, "has_more": False, "url": f"/v1/invoices/{invoice_id}/lines"},
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
        "subtotal": subtotal, "subtotal_excluding_tax": subtotal, "test_clock": customer.get("test_clock"),
        "total": total, "total_discount_amounts": discount_totals, "total_excluding_tax": total,
        "total_pretax_credit_amounts": [], "total_taxes": [], "webhooks_delivered_at": now,
        "_payments": [],
    }
    app.add(invoice)
    app.emit("invoice.created", invoice)
    return invoice


def finalize_invoice(app: Sandbox, invoice: Obj) -> None:
    """Number the invoice, apply the customer balance and open it (``invoice.finalized``)."""
    customer = app.get("customer", invoice["customer"], allow_deleted=True)
    now = app.now_for(customer["id"])
    starting = int(customer.get("balance") or 0)
    applied = invoice["total"] + starting
    amount_due = max(applied, 0)
    ending = min(applied, 0)
    if 0 < amount_due < MINIMUMS.get(invoice["currency"], 1):  # too small to charge: owed on the next invoice
        ending, amount_due = amount_due, 0
    customer["balance"] = ending
    customer["next_invoice_sequence"] = int(customer.get("next_invoice_sequence") or 1) + 1
    invoice.update(status="open", number=f"{customer['invoice_prefix']}-{customer['next_invoice_sequence'] - 1:04d}",
                   effective_at=now, starting_balance=starting, ending_balance=ending, amount_due=amount_due,
                   amount_remaining=amount_due)
    invoice["status_transitions"]["finalized_at"] = now
    app.emit("invoice.finalized", invoice)
