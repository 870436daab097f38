"""Decoding of Stripe's form encoding (bracket notation) and value coercion.

``metadata[track]=DP&line_items[0][price]=price_1&expand[]=customer`` becomes
``{"metadata": {"track": "DP"}, "line_items": [{"price": "price_1"}], "expand": ["customer"]}``.
Values stay strings; handlers coerce them with :func:`to_int` / :func:`to_bool`.
"""

from __future__ import annotations

import builtins
import re
from typing import Any
from urllib.parse import parse_qsl

from .errors import StripeError, invalid, missing, unknown

_KEY_RE = re.compile(r"\[([^\]]*)\]")


class _Auto:
    """Marker dict for keys written with ``[]`` (append)."""


def _split_key(key: str) -> list[str]:
    head, _, rest = key.partition("[")
    parts = [head]
    if rest:
        parts.extend(_KEY_RE.findall("[" + rest))
    return parts


def decode_pairs(pairs: list[tuple[str, str]]) -> dict[str, Any]:
    root: dict[str, Any] = {}
    counters: dict[int, int] = {}
    for key, value in pairs:
        parts = _split_key(key)
        node: dict[str, Any] = root
        for i, part in enumerate(parts):
            last = i == len(parts) - 1
            if part == "":
                n = counters.get(id(node), 0)
                counters[id(node)] = n + 1
                part = f"{n}"
            if last:
                node[part] = value
            else:
                child = node.get(part)
                if not isinstance(child, dict):
                    child = {}
                    node[part] = child
                node = child
    return _listify(root)


def _listify(value: Any) -> Any:
    if isinstance(value, dict):
        converted = {k: _listify(v) for k, v in value.items()}
        if converted and all(k.isdigit() for k in converted):
            return [converted[k] for k in sorted(converted, key=int)]
        return converted
    return value


def decode_query(query: str) -> dict[str, Any]:
    return decode_pairs(parse_qsl(query, keep_blank_values=True))


def decode_form(body: bytes) -> dict[str, Any]:
    return decode_query(body.decode("utf-8"))


# --------------------------------------------------------------------------- coercion


def to_int(value: Any, param: str) -> int:
    if isinstance(value, bool):
        raise invalid(param, f"Invalid integer: {value}", "parameter_invalid_integer")
    if isinstance(value, int):
        return value
    if isinstance(value, str) and re.fullmatch(r"-?\d+", value.strip()):
        return int(value)
    raise invalid(param, f"Invalid integer: {value}", "parameter_invalid_integer")


def to_bool(value: Any, param: str) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    raise invalid(param, f"Invalid boolean: {value}")







class Params:
    """Typed access to decoded parameters, raising Stripe's errors on bad input."""

    def __init__(self, data: dict[str, Any], prefix: builtins.str = "") -> None:
        self.data = data
        self.prefix = prefix

    def name(self, key: builtins.str) -> builtins.str:
        return f"{self.prefix}[{key}]" if self.prefix else key

    def __contains__(self, key: builtins.str) -> builtins.bool:
        return key in self.data

    def allow(self, *keys: builtins.str) -> None:
        allowed = set(keys) | {"expand"}
        for key in self.data:
            if key not in allowed:
                raise unknown(self.name(key))

    def raw(self, key: builtins.str, default: Any = None) -> Any:
        return self.data.get(key, default)

    def str(
        self, key: builtins.str, default: builtins.str | None = None, *, required: builtins.bool = False
    ) -> builtins.str | None:
        value = self.data.get(key)
        if value is None or value == "":
            if required:
                raise missing(self.name(key))
            return default if value is None else None
        if not isinstance(value, builtins.str):
            raise invalid(self.name(key), f"Invalid string: {value!r}", "parameter_invalid_string")
        return value

    def req(self, key: builtins.str) -> builtins.str:
        value = self.str(key, required=True)
        assert value is not None
        return value

    def int(self, key: builtins.str, default: builtins.int | None = None, *, required: builtins.bool = False,
            minimum: builtins.int | None = None) -> builtins.int | None:
        value = self.data.get(key)
        if value is None or value == "":
            if required:
                raise missing(self.name(key))
            return default
        number = to_int(value, self.name(key))
        if minimum is not None and number < minimum:
            raise invalid(self.name(key), f"This value must be greater than or equal to {minimum}.",
                          "parameter_invalid_integer")
        return number

    def bool(self, key: builtins.str, default: builtins.bool | None = None) -> builtins.bool | None:
        value = self.data.get(key)
        if value is None or value == "":
            return default
        return to_bool(value, self.name(key))

    def sub(self, key: builtins.str) -> Params:
        value = self.data.get(key)
        if value is None or value == "":
            return Params({}, self.name(key))
        if not isinstance(value, dict):
            raise invalid(self.name(key), f"Invalid object: {self.name(key)}", "parameter_invalid_object")
        return Params(value, self.name(key))

    def list(self, key: builtins.str) -> list[Any]:
        value = self.data.get(key)
        if value is None or value == "":
            return []
        if isinstance(value, dict):  # e.g. expand[foo]=... is not an array
            raise invalid(self.name(key), f"Invalid array: {self.name(key)}", "parameter_invalid_array")
        if not isinstance(value, list):
            return [value]
        return value

    def currency(self, key: builtins.str = "currency", *, required: builtins.bool = True) -> builtins.str | None:
        value = self.str(key, required=required)
        if value is None:
            return None
        if not re.fullmatch(r"[a-zA-Z]{3}", value):
            raise invalid(self.name(key), f"Invalid currency: {value}. Stripe currently supports these "
                          "currencies: usd, eur, gbp, ... (3-letter ISO codes)", "parameter_invalid_string")
        return value.lower()

    def amount(
        self, key: builtins.str = "amount", *, required: builtins.bool = True, allow_zero: builtins.bool = False
    ) -> builtins.int | None:
        value = self.int(key, required=required)
        if value is None:
            return None
        if value < 0 or (value == 0 and not allow_zero):
            raise invalid(self.name(key), "This value must be greater than or equal to 1.",
                          "parameter_invalid_integer")
        if value > 99999999:
            raise invalid(self.name(key), "Amount must be no more than $999,999.99", "amount_too_large")
        return value


def metadata_update(current: dict[str, str], value: Any, param: str = "metadata") -> dict[str, str]:
    """Apply Stripe's metadata semantics: ``metadata=`` clears, ``metadata[k]=`` deletes a key."""
    if value is None:
        return current
    if value == "":
        return {}
    if not isinstance(value, dict):
        raise invalid(param, "Invalid hash", "parameter_invalid_object")
    result = dict(current)
    for key, val in value.items():
        if not isinstance(val, str):
            raise invalid(f"{param}[{key}]", "Metadata values must be strings.")
        if len(key) > 40:
            raise invalid(f"{param}[{key}]", "Metadata keys can have at most 40 characters.",
                          "parameter_invalid_string")
        if len(val) > 500:
            raise invalid(f"{param}[{key}]", "Metadata values can have at most 500 characters.",
                          "parameter_invalid_string")
        if val == "":
            result.pop(key, None)
        else:
            result[key] = val
    if len(result) > 50:
        raise StripeError(400, "Metadata can have at most 50 keys.", param=param)
    return result
