"""Customers (create, retrieve, update, delete, list, search)."""

from __future__ import annotations

import secrets
from typing import Any

from ..app import Obj, Sandbox
from ..errors import invalid
from ..forms import Params, metadata_update
from ..router import Request, api
from ..store import new_id
from ._util import address, nullable_str, update_with_event
from .intent_options import shipping

TAX_EXEMPT = ("none", "exempt", "reverse")
CUSTOMER_FIELDS = ("email", "name", "description", "phone", "metadata", "address", "payment_method",
                   "invoice_settings", "test_clock", "preferred_locales", "shipping", "tax_exempt")


def create_customer(app: Sandbox, *, email: str | None = None, name: str | None = None,
                    description: str | None = None, phone: str | None = None,
                    metadata: dict[str, str] | None = None, test_clock: str | None = None,
                    addr: dict[str, Any] | None = None, profile: Obj | None = None) -> Obj:
    if test_clock is None:
        default_clock = app.store.config.get("default_test_clock")
        if default_clock and app.store.get(default_clock, "test_helpers.test_clock"):
            test_clock = default_clock
    clock = app.get("test_helpers.test_clock", test_clock, "test_clock") if test_clock else None
    customer: Obj = {
        "id": new_id("cus_", 14),
        "object": "customer",
        "address": addr,
        "balance": 0,
        "created": int(clock["frozen_time"]) if clock else app.now(),
        "currency": None,
        "customer_account": None,
        "default_source": None,
        "delinquent": False,
        "description": description,
        "discount": None,
        "email": email,
        "invoice_prefix": secrets.token_hex(4).upper(),
        "invoice_settings": {"custom_fields": None, "default_payment_method": None, "footer": None,
                             "rendering_options": None},
        "livemode": False,
        "metadata": metadata or {},
        "name": name,
        "next_invoice_sequence": 1,
        "phone": phone,
        "preferred_locales": [],
        "shipping": None,
        "tax_exempt": "none",
        "test_clock": test_clock,
        **(profile or {}),
    }
    app.add(customer)
    app.emit("customer.created", customer)
    return customer


def _profile(p: Params) -> Obj:
    """``preferred_locales``, ``shipping`` and ``tax_exempt``, where given."""
    profile: Obj = {}
    if "preferred_locales" in p:
        profile["preferred_locales"] = [str(locale) for locale in p.list("preferred_locales")]
    if "shipping" in p:
        profile["shipping"] = shipping(p, tracking=False)
    if "tax_exempt" in p:
        exempt = p.str("tax_exempt") or "none"
        if exempt not in TAX_EXEMPT:
            raise invalid("tax_exempt", "Invalid tax_exempt: must be one of none, exempt or reverse",
                          "parameter_invalid_string")
        profile["tax_exempt"] = exempt
    return profile


def _set_default_pm(app: Sandbox, customer: Obj, p: Params) -> None:
    settings = p.sub("invoice_settings")
    settings.allow("default_payment_method", "footer")
    if "default_payment_method" in settings:
        pm_id = settings.str("default_payment_method")
        if pm_id:
            pm = app.get("payment_method", pm_id, "invoice_settings[default_payment_method]")
            if pm.get("customer") != customer["id"]:
                raise invalid("invoice_settings[default_payment_method]",
                              f"No such PaymentMethod: '{pm_id}'; It's possible this PaymentMethod exists on "
                              "one of your connected accounts, in which case you should retry this request "
                              "on that connected account.", "resource_missing")
        customer["invoice_settings"]["default_payment_method"] = pm_id
    if "footer" in settings:
        customer["invoice_settings"]["footer"] = settings.str("footer")


@api("POST", "/v1/customers")
def customers_create(req: Request) -> Obj:
    app, p = req.app, req.p
    p.allow(*CUSTOMER_FIELDS)
    customer = create_customer(
        app, email=p.str("email"), name=p.str("name"), description=p.str("description"), phone=p.str("phone"),
        metadata=metadata_update({}, p.raw("metadata")), test_clock=p.str("test_clock"),
        addr=address(p.raw("address")), profile=_profile(p),
    )
    if p.str("payment_method") or "invoice_settings" in p:
        from .payment_methods import attach

        def mutate() -> None:
            if p.str("payment_method"):
                attach(app, _resolve(app, p.req("payment_method")), customer)
            _set_default_pm(app, customer, p)

        update_with_event(app, customer, mutate)
    return app.render(customer)


def _resolve(app: Sandbox, pm_id: str) -> Obj:
    from .payment_methods import resolve_payment_method

    return resolve_payment_method(app, pm_id, "payment_method")


@api("GET", "/v1/customers/{id}")
def customers_retrieve(req: Request) -> Obj:
    return req.app.render(req.app.get("customer", req.args["id"], allow_deleted=True))


@api("POST", "/v1/customers/{id}")
def customers_update(req: Request) -> Obj:
    app, p = req.app, req.p
    p.allow(*(f for f in CUSTOMER_FIELDS if f not in ("payment_method", "test_clock")))
    customer = app.get("customer", req.args["id"])

    def mutate() -> None:
        for key in ("email", "name", "description", "phone"):
            if key in p:
                customer[key] = nullable_str(p.raw(key), key)
        if "metadata" in p:
            customer["metadata"] = metadata_update(customer["metadata"], p.raw("metadata"))
        if "address" in p:
            customer["address"] = address(p.raw("address"))
        customer.update(_profile(p))
        if "invoice_settings" in p:
            _set_default_pm(app, customer, p)

    update_with_event(app, customer, mutate)
    return app.render(customer)


@api("DELETE", "/v1/customers/{id}")
def customers_delete(req: Request) -> Obj:
    app = req.app
    customer = app.get("customer", req.args["id"])
    delete_customer(app, customer)
    return app.render(customer)


def delete_customer(app: Sandbox, customer: Obj) -> None:
    from .subscriptions_invoices import cancel_subscription

    for sub in app.store.all("subscription"):
        if sub["customer"] == customer["id"] and sub["status"] not in ("canceled", "incomplete_expired"):
            cancel_subscription(app, sub, reason="cancellation_requested")
    for pm in app.store.all("payment_method"):
        if pm.get("customer") == customer["id"]:
            pm["customer"] = None
            pm["_consumed"] = True
    app.emit("customer.deleted", customer)
    customer["_deleted"] = True


@api("GET", "/v1/customers")
def customers_list(req: Request) -> Obj:
    app, p = req.app, req.p
    p.allow("email", "test_clock", "created", "limit", "starting_after", "ending_before")
    objs = app.store.all("customer")
    if "email" in p:
        objs = [o for o in objs if o["email"] == p.str("email")]
    if "test_clock" in p:
        objs = [o for o in objs if o["test_clock"] == p.str("test_clock")]
    return app.list_response(objs, p, "/v1/customers")


@api("GET", "/v1/customers/search")
def customers_search(req: Request) -> Obj:
    return req.app.search_response(req.app.store.all("customer"), req.p, "/v1/customers/search",
                                   {"created", "email", "metadata", "name", "phone"})


@api("GET", "/v1/customers/{id}/payment_methods")
def customer_payment_methods(req: Request) -> Obj:
    app, p = req.app, req.p
    p.allow("type", "allow_redisplay", "limit", "starting_after", "ending_before")
    customer = app.get("customer", req.args["id"])
    objs = [pm for pm in app.store.all("payment_method") if pm.get("customer") == customer["id"]]
    for key in ("type", "allow_redisplay"):
        if p.str(key):
            objs = [pm for pm in objs if pm[key] == p.str(key)]
    return app.list_response(objs, p, f"/v1/customers/{customer['id']}/payment_methods")
