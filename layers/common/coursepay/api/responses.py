"""How a route declares and sends its success response: ``@responds(View, HTTPStatus.CREATED)`` under the
``@app.<method>(...)`` decorator. The handler returns an instance of the view (or a mapping with exactly the view's
fields, validated into it); the decorator serialises it with the declared status. local/openapi.py reads the same
declaration (``response_contract``) to write each 2xx's schema, so the document names the model really sent.

A handler that answers something else - another model (a domain record with internals), a key the view does not
have, a value of the wrong type, an undeclared status - fails with ``UndeclaredResponse`` (a 500 in production, a
failing test before that) instead of sending it."""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any, ParamSpec

from aws_lambda_powertools.event_handler import Response, content_types
from pydantic import BaseModel, RootModel, ValidationError

Params = ParamSpec("Params")
_CONTRACT = "__response_contract__"


class UndeclaredResponse(TypeError):
    """A handler answered something its ``@responds`` declaration does not allow: a bug in the handler."""


@dataclass(frozen=True)
class Reply:
    """A body with a declared status other than the route's first one (e.g. 202 while a payment is processing)."""

    status: HTTPStatus
    body: BaseModel | Mapping[str, Any] | None


@dataclass(frozen=True)
class ResponseContract:
    model: type[BaseModel] | None  # None: no body (204)
    statuses: tuple[HTTPStatus, ...]  # the first one is the default
    headers: Mapping[str, str] = field(default_factory=dict)

    def render(self, where: str, status: HTTPStatus, body: object) -> Response[str]:
        if status not in self.statuses:
            raise UndeclaredResponse(f"{where} answered {int(status)}; it declares {[int(s) for s in self.statuses]}")
        if self.model is None:
            if body is not None:
                raise UndeclaredResponse(f"{where} declares no body but returned {type(body).__name__}")
            return Response(status, content_types.APPLICATION_JSON, "", headers=dict(self.headers))
        return Response(status, content_types.APPLICATION_JSON, self.view(where, body).model_dump_json(),
                        headers=dict(self.headers))

    def view(self, where: str, body: object) -> BaseModel:
        model = self.model
        assert model is not None
        if type(body) is model:
            return body
        if isinstance(body, model):  # a stored record extending its view: sent as the view, internals left out
            return model.model_validate(body.model_dump(include=set(model.model_fields)))
        if not isinstance(body, Mapping):
            raise UndeclaredResponse(f"{where} declares {model.__name__} but returned {type(body).__name__}")
        undeclared = set(body) - set(model.model_fields)
        if undeclared and not issubclass(model, RootModel):  # a RootModel's alternatives refuse unknown keys
            raise UndeclaredResponse(f"{where}: {sorted(undeclared)} not in {model.__name__}")
        try:
            return model.model_validate(body)
        except ValidationError as mismatch:  # not the caller's bad input (a 400): the handler's own bug
            raise UndeclaredResponse(f"{where} does not match {model.__name__}: {mismatch}") from None


def responds(model: type[BaseModel] | None, *statuses: HTTPStatus,
             headers: Mapping[str, str] | None = None) -> Callable[[Callable[Params, object]],
                                                                    Callable[Params, Response[str]]]:
    """Declare the route's success body (``None``: no body) and statuses (default 200; the first is the one a plain
    return gets, the others need a ``Reply``), and send what the handler returns as that model."""
    contract = ResponseContract(model, statuses or (HTTPStatus.OK,), dict(headers or {}))

    def decorate(handler: Callable[Params, object]) -> Callable[Params, Response[str]]:
        @functools.wraps(handler)
        def answer(*args: Params.args, **kwargs: Params.kwargs) -> Response[str]:
            result = handler(*args, **kwargs)
            if isinstance(result, Reply):
                return contract.render(handler.__name__, result.status, result.body)
            return contract.render(handler.__name__, contract.statuses[0], result)

        setattr(answer, _CONTRACT, contract)
        return answer

    return decorate


def response_contract(handler: object) -> ResponseContract | None:
    """The ``@responds`` declaration of a handler (None: it has none)."""
    contract = getattr(handler, _CONTRACT, None)
    return contract if isinstance(contract, ResponseContract) else None

