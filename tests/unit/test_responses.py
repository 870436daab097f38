"""``@responds``: what a handler returns is sent as its declared view, with a declared status - or refused with
``UndeclaredResponse`` (a bug in the handler, never sent): another model, a key or a type the view does not have,
a status it does not declare. local/openapi.py reads the same declaration."""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

import pytest
from pydantic import BaseModel, ConfigDict

from coursepay.api.resolver import make_resolver
from coursepay.api.responses import Reply, UndeclaredResponse, responds, response_contract
from coursepay.views import Page, PublicView
from tests.support.api_events import body_of, http_event


class ItemView(PublicView):
    item_id: str
    amount: int


class StoredItem(ItemView):
    model_config = ConfigDict(extra="ignore")

    secret_version: int = 7


class Unrelated(BaseModel):
    item_id: str
    amount: int


def _app(answer: Any, *statuses: HTTPStatus, model: type[BaseModel] | None = ItemView) -> Any:
    app = make_resolver()

    @app.get("/thing")
    @responds(model, *statuses, headers={"Cache-Control": "no-store"})
    def thing() -> Any:
        return answer

    return app, thing


def _call(app: Any) -> dict[str, Any]:
    response: dict[str, Any] = app.resolve(http_event("GET", "/thing"), None)
    return response


def test_the_view_is_sent_with_its_declared_status_and_headers() -> None:
    app, handler = _app(ItemView(item_id="i1", amount=1500), HTTPStatus.CREATED)
    response = _call(app)
    assert (response["statusCode"], body_of(response)) == (201, {"item_id": "i1", "amount": 1500})
    assert response["headers"]["Cache-Control"] == "no-store"
    contract = response_contract(handler)
    assert contract is not None
    assert (contract.model, contract.statuses) == (ItemView, (HTTPStatus.CREATED,))


def test_a_stored_record_is_sent_as_its_view_without_its_internals() -> None:
    app, _ = _app(StoredItem(item_id="i1", amount=1500, secret_version=9))
    assert body_of(_call(app)) == {"item_id": "i1", "amount": 1500}


def test_a_mapping_is_validated_into_the_view() -> None:
    app, _ = _app({"item_id": "i1", "amount": 1500})
    assert body_of(_call(app)) == {"item_id": "i1", "amount": 1500}
    page_app, _ = _app({"items": [{"item_id": "i1", "amount": 1}], "next_cursor": None}, model=Page[ItemView])
    assert body_of(_call(page_app)) == {"items": [{"item_id": "i1", "amount": 1}], "next_cursor": None}


@pytest.mark.parametrize("answer", [
    {"item_id": "i1", "amount": 1500, "secret_version": 9},  # a key the view does not have
    {"item_id": "i1", "amount": "a lot"},  # a value of the wrong type
    {"item_id": "i1"},  # a missing field
    Unrelated(item_id="i1", amount=1500),  # another model, even one with the same fields
    ["i1"],
])
def test_an_answer_that_is_not_the_view_is_refused(answer: Any) -> None:
    app, _ = _app(answer)
    with pytest.raises(UndeclaredResponse):
        _call(app)


def test_a_nested_key_the_view_does_not_have_is_refused() -> None:
    app, _ = _app({"items": [{"item_id": "i1", "amount": 1, "secret_version": 9}]}, model=Page[ItemView])
    with pytest.raises(UndeclaredResponse):
        _call(app)


def test_other_statuses_need_a_reply_and_must_be_declared() -> None:
    view = ItemView(item_id="i1", amount=1)
    app, _ = _app(Reply(HTTPStatus.ACCEPTED, view), HTTPStatus.OK, HTTPStatus.ACCEPTED)
    assert _call(app)["statusCode"] == 202
    undeclared, _ = _app(Reply(HTTPStatus.CREATED, view), HTTPStatus.OK, HTTPStatus.ACCEPTED)
    with pytest.raises(UndeclaredResponse):
        _call(undeclared)


def test_a_route_without_a_body_sends_none() -> None:
    app, _ = _app(None, HTTPStatus.NO_CONTENT, model=None)
    response = _call(app)
    assert (response["statusCode"], response["body"]) == (204, "")
    with_body, _ = _app(ItemView(item_id="i1", amount=1), HTTPStatus.NO_CONTENT, model=None)
    with pytest.raises(UndeclaredResponse):
        _call(with_body)
