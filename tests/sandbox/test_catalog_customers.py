"""Products, Prices and Customers — through the v1 service style and the module style."""

from __future__ import annotations

import pytest
import stripe


def test_product_create_update_archive(client) -> None:
    product = client.v1.products.create(params={"name": "Data Pipelines", "metadata": {"track": "DP"}})
    assert product.id.startswith("prod_")
    assert product.active is True
    assert product.metadata.to_dict() == {"track": "DP"}
    updated = client.v1.products.update(product.id, params={"name": "Data Pipelines II", "metadata": {"track": ""}})
    assert updated.name == "Data Pipelines II"
    assert updated.metadata.to_dict() == {}
    archived = client.v1.products.update(product.id, params={"active": False})
    assert archived.active is False
    assert [p.id for p in client.v1.products.list(params={"active": True}).data] == []
    assert [p.id for p in client.v1.products.list(params={"active": False}).data] == [product.id]
    events = client.v1.events.list(params={"type": "product.updated"}).data
    assert len(events) == 2
    assert events[0].data.previous_attributes["active"] is True


def test_price_one_time_recurring_immutable_and_lookup_key(client) -> None:
    product = client.v1.products.create(params={"name": "Course"})
    one_time = client.v1.prices.create(params={"product": product.id, "unit_amount": 4900, "currency": "usd",
                                               "lookup_key": "course_once"})
    assert one_time.type == "one_time"
    assert one_time.recurring is None
    assert str(one_time.unit_amount_decimal) == "4900"
    monthly = client.v1.prices.create(params={"product": product.id, "unit_amount": 1500, "currency": "EUR",
                                              "recurring": {"interval": "month"}})
    assert monthly.type == "recurring"
    assert monthly.currency == "eur"
    assert monthly.recurring is not None
    assert (monthly.recurring.interval, monthly.recurring.interval_count) == ("month", 1)
    # amounts are immutable: Stripe rejects the parameter on update
    with pytest.raises(stripe.InvalidRequestError) as exc:
        client.v1.prices.update(one_time.id, params={"unit_amount": 10})
    assert exc.value.param == "unit_amount"
    # lookup keys are unique unless transferred
    with pytest.raises(stripe.InvalidRequestError) as exc:
        client.v1.prices.create(params={"product": product.id, "unit_amount": 1, "currency": "usd",
                                        "lookup_key": "course_once"})
    assert exc.value.param == "lookup_key"
    moved = client.v1.prices.create(params={"product": product.id, "unit_amount": 5900, "currency": "usd",
                                            "lookup_key": "course_once", "transfer_lookup_key": True})
    found = client.v1.prices.list(params={"lookup_keys": ["course_once"]}).data
    assert [p.id for p in found] == [moved.id]
    assert client.v1.prices.retrieve(one_time.id).lookup_key is None
    # archive a price
    assert client.v1.prices.update(monthly.id, params={"active": False}).active is False
    assert {p.id for p in client.v1.prices.list(params={"product": product.id, "active": True}).data} == {
        one_time.id, moved.id}


@pytest.mark.parametrize(("params", "param"), [
    ({"unit_amount": -5, "currency": "usd"}, "unit_amount"),
    ({"unit_amount": 5, "currency": "dollars"}, "currency"),
    ({"unit_amount": 5, "currency": "usd", "recurring": {"interval": "fortnight"}}, "recurring[interval]"),
    ({"unit_amount": 5}, "currency"),
])
def test_price_validation(client, params, param) -> None:
    product = client.v1.products.create(params={"name": "Course"})
    with pytest.raises(stripe.InvalidRequestError) as exc:
        client.v1.prices.create(params={"product": product.id, **params})
    assert exc.value.param == param


def test_price_with_missing_product(client) -> None:
    with pytest.raises(stripe.InvalidRequestError) as exc:
        client.v1.prices.create(params={"product": "prod_nope", "unit_amount": 5, "currency": "usd"})
    assert exc.value.http_status == 404
    assert exc.value.code == "resource_missing"


def test_customers_crud_list_by_email_and_search(client) -> None:
    a = client.v1.customers.create(params={"email": "ada@example.com", "name": "Ada",
                                           "metadata": {"user_id": "abc"}})
    b = client.v1.customers.create(params={"email": "bob@example.com", "metadata": {"user_id": "xyz"}})
    assert a.id.startswith("cus_")
    assert client.v1.customers.retrieve(a.id).name == "Ada"
    updated = client.v1.customers.update(a.id, params={"name": "Ada L.", "metadata": {"plan": "pro"}})
    assert updated.name == "Ada L."
    assert updated.metadata.to_dict() == {"user_id": "abc", "plan": "pro"}
    assert [c.id for c in client.v1.customers.list(params={"email": "bob@example.com"}).data] == [b.id]
    found = client.v1.customers.search(params={"query": "metadata['user_id']:'abc'"})
    assert found.object == "search_result"
    assert [c.id for c in found.data] == [a.id]
    assert [c.id for c in client.v1.customers.search(
        params={"query": "email:'bob@example.com' OR metadata['plan']:'pro'"}).data] == [b.id, a.id]
    assert client.v1.customers.search(params={"query": "metadata['user_id']:'abc' AND name:'Bob'"}).data == []
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.customers.search(params={"query": "favourite_colour:'red'"})
    deleted = client.v1.customers.delete(b.id)
    assert deleted.deleted is True
    assert client.v1.customers.retrieve(b.id).deleted is True
    assert [c.id for c in client.v1.customers.list().data] == [a.id]
    types = [e.type for e in client.v1.events.list(params={"limit": 100}).data]
    assert types.count("customer.created") == 2
    assert "customer.updated" in types
    assert "customer.deleted" in types


def test_module_style(module_stripe) -> None:
    customer = module_stripe.Customer.create(email="mod@example.com", metadata={"user_id": "m1"})
    assert isinstance(customer, stripe.Customer)
    assert module_stripe.Customer.retrieve(customer.id).email == "mod@example.com"
    result = module_stripe.Customer.search(query="metadata['user_id']:'m1'")
    assert [c.id for c in result.data] == [customer.id]
    product = module_stripe.Product.create(name="Module course")
    price = module_stripe.Price.create(product=product.id, unit_amount=2500, currency="usd")
    assert module_stripe.Price.retrieve(price.id, expand=["product"]).product.name == "Module course"
    modified = module_stripe.Customer.modify(customer.id, name="Mo")
    assert modified.name == "Mo"
    assert [c.id for c in module_stripe.Customer.list(email="mod@example.com").auto_paging_iter()] == [customer.id]
