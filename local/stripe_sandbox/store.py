"""In-memory state of the sandbox: objects by type, ids, idempotency cache, persistence.

Objects are stored as Stripe-shaped dicts; keys starting with ``_`` are internal
(never rendered to clients). All access happens under :attr:`Store.lock`.
"""

from __future__ import annotations

import json
import os
import secrets
import string
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

_ALPHABET = string.ascii_letters + string.digits

# id prefix -> object type (``object`` field); longest prefixes first.
PREFIXES: dict[str, str] = {
    "cs_test_": "checkout.session",
    "clock_": "test_helpers.test_clock",
    "price_": "price",
    "prod_": "product",
    "cus_": "customer",
    "seti_": "setup_intent",
    "pi_": "payment_intent",
    "pm_": "payment_method",
    "ch_": "charge",
    "py_": "charge",
    "re_": "refund",
    "sub_": "subscription",
    "si_": "subscription_item",
    "in_": "invoice",
    "inpay_": "invoice_payment",
    "ii_": "invoiceitem",
    "di_": "discount",
    "promo_": "promotion_code",
    "bpc_": "billing_portal.configuration",
    "bps_": "billing_portal.session",
    "evt_": "event",
    "we_": "webhook_endpoint",
    "li_": "item",
    "txn_": "balance_transaction",
    "dp_": "dispute",
    "acct_": "account",
    "ba_": "bank_account",
    "tr_": "transfer",
    "trr_": "transfer_reversal",
    "fee_": "application_fee",
    "fr_": "fee_refund",
    "po_": "payout",
    "pyr_": "refund",
}

IDEMPOTENCY_TTL = 24 * 3600


def new_id(prefix: str, length: int = 24) -> str:
    return prefix + "".join(secrets.choice(_ALPHABET) for _ in range(length))


def kind_of(obj_id: str) -> str | None:
    for prefix, kind in PREFIXES.items():
        if obj_id.startswith(prefix):
            return kind
    return None


class Store:
    """Plain state container. ``lock`` guards every read/modify/write.

    Objects belong to an account: the platform or a Connect account (``_account``, set from
    :attr:`account` when added). ``get``/``all`` only see the current account's objects (the
    ``Stripe-Account`` header of the request); ``get_any``/``all_any`` see every account's.
    """

    def __init__(self, state_file: str | os.PathLike[str] | None = None) -> None:
        self.lock = threading.RLock()
        self.state_file = Path(state_file) if state_file else None
        self.objects: dict[str, dict[str, dict[str, Any]]] = {}
        self.idempotency: dict[str, dict[str, Any]] = {}
        self.config: dict[str, Any] = {}
        self.deliveries: dict[str, list[dict[str, Any]]] = {}
        self.account: str | None = None  # the Connect account requests act on; None = the platform
        self.reset()
        if self.state_file and self.state_file.exists():
            self.load()

    def reset(self) -> None:
        with self.lock:
            self.objects = {}
            self.idempotency = {}
            self.config = {"default_test_clock": None, "time_offset": 0}
            self.deliveries = {}
            self.account = None

    # ------------------------------------------------------------------ objects
    def coll(self, kind: str) -> dict[str, dict[str, Any]]:
        return self.objects.setdefault(kind, {})

    def add(self, obj: dict[str, Any]) -> dict[str, Any]:
        if self.account and "_account" not in obj:
            obj["_account"] = self.account
        self.coll(obj["object"])[obj["id"]] = obj
        return obj

    def get(self, obj_id: str, kind: str | None = None) -> dict[str, Any] | None:
        obj = self.get_any(obj_id, kind)
        return obj if obj is not None and obj.get("_account") == self.account else None

    def get_any(self, obj_id: str, kind: str | None = None) -> dict[str, Any] | None:
        kind = kind or kind_of(obj_id)
        if kind is None:
            return None
        return self.objects.get(kind, {}).get(obj_id)

    def all(self, kind: str) -> list[dict[str, Any]]:
        """The current account's objects of a type, newest first (Stripe's list order)."""
        return [o for o in self.all_any(kind) if o.get("_account") == self.account]

    def all_any(self, kind: str) -> list[dict[str, Any]]:
        return list(reversed(self.objects.get(kind, {}).values()))

    def now(self) -> int:
        return int(time.time()) + int(self.config.get("time_offset") or 0)

    # ------------------------------------------------------------- idempotency
    def idem_get(self, key: str) -> dict[str, Any] | None:
        entry = self.idempotency.get(key)
        if entry and entry["saved_at"] < time.time() - IDEMPOTENCY_TTL:
            del self.idempotency[key]
            return None
        return entry

    def idem_put(self, key: str, fingerprint: str, status: int, body: bytes) -> None:
        self.idempotency[key] = {
            "fingerprint": fingerprint,
            "status": status,
            "body": body.decode("utf-8"),
            "saved_at": time.time(),
        }

    # ------------------------------------------------------------- persistence
    def snapshot(self) -> dict[str, Any]:
        return {
            "version": 1,
            "objects": self.objects,
            "idempotency": self.idempotency,
            "config": self.config,
            "deliveries": self.deliveries,
        }

    def save(self) -> None:
        if not self.state_file:
            return
        with self.lock:
            data = json.dumps(self.snapshot(), separators=(",", ":"))
        self.state_file.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=self.state_file.parent, prefix=".sandbox-state-")
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(data)
        os.replace(tmp, self.state_file)

    def load(self) -> None:
        assert self.state_file is not None
        data = json.loads(self.state_file.read_text(encoding="utf-8"))
        with self.lock:
            self.objects = data.get("objects", {})
            self.idempotency = data.get("idempotency", {})
            self.config = {"default_test_clock": None, "time_offset": 0, **data.get("config", {})}
            self.deliveries = data.get("deliveries", {})
