"""The sandbox core: state access, rendering, events, expansion, lists and search.

Resource modules (``resources/*``) implement Stripe's endpoints on top of this.
"""

from __future__ import annotations

import copy
import json
import re
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from .errors import StripeError, invalid, no_such
from .forms import Params
from .store import Store, new_id

if TYPE_CHECKING:
    from .webhook_delivery import WebhookDelivery

try:  # the API version the installed SDK pins
    import stripe as _stripe

    API_VERSION: str = str(_stripe.api_version)
except ImportError:  # pragma: no cover - the SDK is a dev dependency
    API_VERSION = "2026-10-28.endive"

Obj = dict[str, Any]

# object type -> hook that completes the rendered copy (derived fields)
RENDERERS: dict[str, Callable[[Sandbox, Obj, Obj], None]] = {}
# (object type, field) -> producer of a field that only appears when expanded
VIRTUAL_EXPANDS: dict[tuple[str, str], Callable[[Sandbox, Obj], Any]] = {}
# time-driven changes checked before every API request (sessions and authorizations that expire)
SWEEPERS: list[Callable[[Sandbox], None]] = []
# object types whose deleted objects are still retrievable as a ``deleted`` stub
LABELS: dict[str, str] = {
    "customer": "customer",
    "product": "product",
    "price": "price",
    "payment_method": "PaymentMethod",
    "setup_intent": "setup_intent",
    "payment_intent": "payment_intent",
    "charge": "charge",
    "refund": "refund",
    "checkout.session": "checkout.session",
    "subscription": "subscription",
    "subscription_item": "subscription_item",
    "invoice": "invoice",
    "test_helpers.test_clock": "test_clock",
    "event": "event",
    "webhook_endpoint": "webhook endpoint",
    "coupon": "coupon",
    "promotion_code": "promotion code",
    "discount": "discount",
    "invoiceitem": "invoiceitem",
    "billing_portal.configuration": "configuration",
    "billing_portal.session": "billing portal session",
}


def strip_internal(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: strip_internal(v) for k, v in value.items() if not k.startswith("_")}
    if isinstance(value, list):
        return [strip_internal(v) for v in value]
    return value


def previous_attributes(before: Obj, after: Obj) -> Obj:
    """Top-level keys whose values changed, with their old values (Stripe's previous_attributes)."""
    return {
        k: before.get(k)
        for k in sorted(set(before) | set(after))
        if k not in ("updated",) and before.get(k) != after.get(k)
    }


class Sandbox:
    """State plus the operations every resource needs. Not an HTTP server (see server.py)."""

    def __init__(self, store: Store, delivery: WebhookDelivery | None = None, base_url: str = "") -> None:
        self.store = store
        self.lock = store.lock
        self.base_url = base_url
        self.delivery = delivery
        self.current_request_id: str | None = None
        self.current_idempotency_key: str | None = None

    # ----------------------------------------------------------------- time
    def now(self) -> int:
        return self.store.now()

    def clock_of_customer(self, customer_id: str | None) -> Obj | None:
        if not customer_id:
            return None
        cus = self.store.get(customer_id, "customer")
        if not cus or not cus.get("test_clock"):
            return None
        return self.store.get(cus["test_clock"], "test_helpers.test_clock")

    def now_for(self, customer_id: str | None) -> int:
        clock = self.clock_of_customer(customer_id)
        return int(clock["frozen_time"]) if clock else self.now()

    # -------------------------------------------------------------- objects
    def get(self, kind: str, obj_id: Any, param: str = "id", *, allow_deleted: bool = False) -> Obj:
        if not isinstance(obj_id, str) or not obj_id:
            raise no_such(LABELS.get(kind, kind), str(obj_id), param)
        obj = self.store.get(obj_id, kind)
        if obj is None or (obj.get("_deleted") and not allow_deleted):
            raise no_such(LABELS.get(kind, kind), obj_id, param)
        return obj

    def add(self, obj: Obj) -> Obj:
        return self.store.add(obj)

    @contextmanager
    def account_scope(self, account: str | None) -> Iterator[None]:
        """Act as ``account`` (None = the platform) inside the block, like a ``Stripe-Account`` header."""
        saved = self.store.account
        self.store.account = account
        try:
            yield
        finally:
            self.store.account = saved

    def render(self, obj: Obj) -> Obj:
        if obj.get("_deleted"):
            return {"id": obj["id"], "object": obj["object"], "deleted": True}
        out: Obj = strip_internal(obj)
        hook = RENDERERS.get(obj["object"])
        if hook:
            hook(self, obj, out)
        return out

    def render_id(self, obj_id: str) -> Obj | None:
        obj = self.store.get(obj_id) or self.store.get(obj_id, "coupon")  # coupon ids carry no prefix
        return self.render(obj) if obj else None

    # --------------------------------------------------------------- events
    def emit(self, type_: str, obj: Obj, previous: Obj | None = None) -> Obj:
        event: Obj = {
            "id": new_id("evt_"),
            "object": "event",
            "api_version": API_VERSION,
            "context": None,
            "created": self.now(),
            "data": {"object": self.render(obj)},
            "livemode": False,
            "pending_webhooks": 0,
            "request": {"id": self.current_request_id, "idempotency_key": self.current_idempotency_key},
            "type": type_,
        }
        if self.store.account:  # an event of a connected account (delivered to Connect endpoints)
            event["account"] = self.store.account
        if previous:
            event["data"]["previous_attributes"] = copy.deepcopy(previous)
        self.add(event)
        if self.delivery is not None:
            self.delivery.dispatch(event)
        return event

    # ------------------------------------------------------------ expansion
    def expand(self, data: Any, paths: list[Any]) -> None:
        for path in paths:
            if not isinstance(path, str) or not path:
                raise invalid("expand", "Invalid array", "parameter_invalid_array")
            parts = path.split(".")
            if len(parts) > 4:
                raise StripeError(400, f"You cannot expand more than 4 levels of a property ({path}).",
                                  param="expand")
            self._expand(data, parts, path)

    def _expand(self, node: Any, parts: list[str], full: str) -> None:
        if isinstance(node, list):
            for item in node:
                self._expand(item, parts, full)
            return
        if not isinstance(node, dict):
            return
        key = parts[0]
        virtual = VIRTUAL_EXPANDS.get((str(node.get("object")), key))
        if virtual is not None:
            source = self.store.get(str(node.get("id")), str(node.get("object")))
            if source is not None:
                node[key] = virtual(self, source)
        elif key not in node:
            raise StripeError(400, f"This property cannot be expanded ({full}).", param="expand")
        value = node.get(key)
        if value is not None and not isinstance(value, (str, dict, list)):
            raise StripeError(400, f"This property cannot be expanded ({full}).", param="expand")
        if isinstance(value, str):
            rendered = self.render_id(value)
            if rendered is None:
                raise StripeError(400, f"This property cannot be expanded ({full}).", param="expand")
            node[key] = value = rendered
        elif isinstance(value, list) and value and all(isinstance(v, str) for v in value):  # e.g. discounts[]
            objs = [self.render_id(v) for v in value]
            if any(o is None for o in objs):
                raise StripeError(400, f"This property cannot be expanded ({full}).", param="expand")
            node[key] = value = objs
        if len(parts) > 1 and value is not None:
            self._expand(value, parts[1:], full)

    # ---------------------------------------------------------------- lists
    def list_response(self, objs: list[Obj], p: Params, url: str,
                      render: Callable[[Obj], Obj] | None = None) -> Obj:
        limit = p.int("limit", 10)
        assert limit is not None
        if limit < 1 or limit > 100:
            raise invalid("limit", "Invalid limit: must be between 1 and 100", "parameter_invalid_integer")
        objs = [o for o in objs if not o.get("_deleted")]
        objs = filter_created(objs, p)
        after, before = p.str("starting_after"), p.str("ending_before")
        ids = [o["id"] for o in objs]
        if after:
            if after not in ids:
                raise self._cursor_missing(after, "starting_after")
            start = ids.index(after) + 1
            page = objs[start:start + limit]
            has_more = start + limit < len(objs)
        elif before:
            if before not in ids:
                raise self._cursor_missing(before, "ending_before")
            end = ids.index(before)
            page = objs[max(0, end - limit):end]
            has_more = end - limit > 0
        else:
            page = objs[:limit]
            has_more = len(objs) > limit
        fn = render or self.render
        return {"object": "list", "data": [fn(o) for o in page], "has_more": has_more, "url": url}

    def _cursor_missing(self, obj_id: str, param: str) -> StripeError:
        obj = self.store.get(obj_id)
        label = LABELS.get(obj["object"], obj["object"]) if obj else "object"
        return no_such(label, obj_id, param)

    # --------------------------------------------------------------- search
    def search_response(self, objs: list[Obj], p: Params, url: str, fields: set[str]) -> Obj:
        query = p.req("query")
        limit = p.int("limit", 10)
        assert limit is not None
        if limit < 1 or limit > 100:
            raise invalid("limit", "Invalid limit: must be between 1 and 100", "parameter_invalid_integer")
        clauses, joiner = parse_search(query, fields)
        matches = []
        for obj in objs:
            if obj.get("_deleted"):
                continue
            results = [match_clause(self.render(obj), c) for c in clauses]
            if (all(results) if joiner == "AND" else any(results)):
                matches.append(obj)
        offset = 0
        page_token = p.str("page")
        if page_token:
            m = re.fullmatch(r"page_(\d+)", page_token)
            if not m:
                raise invalid("page", "Invalid page token.", "parameter_invalid_string")
            offset = int(m.group(1))
        page = matches[offset:offset + limit]
        has_more = offset + limit < len(matches)
        result: Obj = {
            "object": "search_result",
            "data": [self.render(o) for o in page],
            "has_more": has_more,
            "next_page": f"page_{offset + limit}" if has_more else None,
            "url": url,
        }
        if "total_count" in p.list("expand"):
            result["total_count"] = len(matches)
        return result


def filter_created(objs: list[Obj], p: Params) -> list[Obj]:
    value = p.raw("created")
    if value is None or value == "":
        return objs
    if isinstance(value, dict):
        sub = p.sub("created")
        bounds = {op: sub.int(op) for op in ("gt", "gte", "lt", "lte")}
        result = []
        for o in objs:
            c = int(o.get("created") or 0)
            if bounds["gt"] is not None and not c > bounds["gt"]:
                continue
            if bounds["gte"] is not None and not c >= bounds["gte"]:
                continue
            if bounds["lt"] is not None and not c < bounds["lt"]:
                continue
            if bounds["lte"] is not None and not c <= bounds["lte"]:
                continue
            result.append(o)
        return result
    exact = p.int("created")
    return [o for o in objs if o.get("created") == exact]


_CLAUSE = re.compile(
    r"""\s*(?P<neg>-)?(?P<field>metadata\[(?P<q>['"])(?P<mkey>.+?)(?P=q)\]|[a-z_][a-z_.]*)\s*"""
    r"""(?P<op>:|~|>=|<=|>|<)\s*(?P<value>'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*"|[^\s]+)\s*"""
)


def parse_search(query: str, fields: set[str]) -> tuple[list[dict[str, Any]], str]:
    pos, clauses, joiners = 0, [], set()
    while pos < len(query):
        m = _CLAUSE.match(query, pos)
        if not m:
            raise StripeError(400, f"Invalid search query: could not parse {query[pos:]!r}.",
                              param="query", code="parameter_invalid_string")
        field_name = "metadata" if m.group("mkey") else m.group("field")
        if field_name not in fields:
            raise StripeError(400, f"Field '{m.group('field')}' is an unsupported search field for this "
                              f"resource. Supported fields: {', '.join(sorted(fields))}.", param="query")
        raw = m.group("value")
        value: Any = raw[1:-1].replace("\\'", "'").replace('\\"', '"') if raw[0] in "'\"" else raw
        if raw == "null":
            value = None
        if m.group("op") == "~" and (not isinstance(value, str) or len(value) < 3):
            raise StripeError(400, "Substring search (~) requires at least 3 characters.", param="query")
        clauses.append({"field": field_name, "mkey": m.group("mkey"), "op": m.group("op"),
                        "value": value, "neg": bool(m.group("neg"))})
        pos = m.end()
        j = re.match(r"(AND|OR)\s+", query[pos:])
        if j:
            joiners.add(j.group(1))
            pos += j.end()
        elif pos < len(query):
            raise StripeError(400, "Invalid search query: expected AND or OR between clauses.", param="query")
    if not clauses:
        raise StripeError(400, "Invalid search query: empty query.", param="query")
    if len(joiners) > 1:
        raise StripeError(400, "Search queries cannot mix AND and OR.", param="query")
    return clauses, (joiners.pop() if joiners else "AND")


def match_clause(obj: Obj, clause: dict[str, Any]) -> bool:
    if clause["field"] == "metadata":
        actual: Any = (obj.get("metadata") or {}).get(clause["mkey"])
    else:
        actual = obj
        for part in clause["field"].split("."):
            actual = actual.get(part) if isinstance(actual, dict) else None
    want = clause["value"]
    op = clause["op"]
    if op == ":":
        if want is None:
            ok = actual is None
        elif isinstance(actual, str):
            ok = actual == want if clause["field"] not in ("email", "name") else actual.lower() == want.lower()
        else:
            ok = str(actual).lower() == str(want).lower() if actual is not None else False
    elif op == "~":
        ok = isinstance(actual, str) and want.lower() in actual.lower()
    else:
        try:
            a, w = float(actual), float(want)
        except (TypeError, ValueError):
            return False
        ok = {">": a > w, "<": a < w, ">=": a >= w, "<=": a <= w}[op]
    return not ok if clause["neg"] else ok


def dumps(data: Any) -> bytes:
    return json.dumps(data, indent=2).encode("utf-8")


def ts() -> int:
    return int(time.time())
