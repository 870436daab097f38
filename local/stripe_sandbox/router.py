"""A tiny method + path-template router shared by all resource modules."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .forms import Params

if TYPE_CHECKING:
    from .app import Sandbox


@dataclass
class Response:
    status: int
    body: bytes
    content_type: str = "application/json"
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class Request:
    app: Sandbox
    method: str
    path: str
    params: dict[str, Any]
    args: dict[str, str]
    headers: dict[str, str]
    api_key: str | None = None
    idempotency_key: str | None = None
    request_id: str = ""
    json: Any = None

    @property
    def p(self) -> Params:
        return Params(self.params)


Handler = Callable[[Request], Any]


@dataclass
class Route:
    method: str
    template: str
    regex: re.Pattern[str]
    handler: Handler
    kind: str  # "api" (Stripe, authenticated), "control"/"unlocked" (/_sandbox JSON), "page" (HTML)


class Router:
    def __init__(self) -> None:
        self.routes: list[Route] = []

    def add(self, method: str, template: str, kind: str = "api") -> Callable[[Handler], Handler]:
        pattern = re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", template)
        regex = re.compile(f"^{pattern}$")

        def deco(fn: Handler) -> Handler:
            self.routes.append(Route(method, template, regex, fn, kind))
            return fn

        return deco

    def match(self, method: str, path: str) -> tuple[Route | None, dict[str, str], bool]:
        """Returns (route, path args, path_exists_with_other_method)."""
        other = False
        best: tuple[Route, dict[str, str]] | None = None
        for route in self.routes:
            m = route.regex.match(path)
            if not m:
                continue
            if route.method != method:
                other = True
                continue
            # literal segments win over placeholders (/v1/customers/search vs /v1/customers/{id})
            if best is None or len(m.groupdict()) < len(best[1]):
                best = (route, m.groupdict())
        if best is not None:
            return best[0], best[1], False
        return None, {}, other


ROUTER = Router()
api = ROUTER.add
# API handlers that also accept a publishable key (``pk_test_…``), as Stripe allows for client-side calls
PUBLISHABLE: set[Handler] = set()


def publishable(method: str, template: str) -> Callable[[Handler], Handler]:
    """An API route a publishable key may call too (the handler checks the intent's client secret)."""

    def deco(fn: Handler) -> Handler:
        PUBLISHABLE.add(fn)
        return api(method, template)(fn)

    return deco


def retrieve_route(template: str, object_type: str) -> None:
    """``GET <template>``: the stored object of ``object_type`` with id ``{id}``, rendered (404 if unknown)."""

    def retrieve(req: Request) -> Any:
        req.p.allow()
        return req.app.render(req.app.get(object_type, req.args["id"]))

    retrieve.__name__ = f"{object_type.replace('.', '_')}_retrieve"
    api("GET", template)(retrieve)


def control(method: str, template: str) -> Callable[[Handler], Handler]:
    return ROUTER.add(method, template, kind="control")


def page(method: str, template: str) -> Callable[[Handler], Handler]:
    return ROUTER.add(method, template, kind="page")


def unlocked(method: str, template: str) -> Callable[[Handler], Handler]:
    """A control route whose handler runs without the state lock (it must take it itself if needed)."""
    return ROUTER.add(method, template, kind="unlocked")
