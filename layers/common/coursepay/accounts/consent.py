"""Consent: which version of the terms of service and privacy notice a user accepted, when, and where.

The current version is a setting (``TERMS_VERSION``, template parameter ``TermsVersion``); a sign-up that names
another version is refused, so nobody is recorded as accepting a text they were not shown.

Items (accounts table): ``pk=USER#<sub>, sk=CONSENT#<accepted_at>#<version>`` - one per acceptance (a later
version accepted later adds one; the same acceptance recorded twice, a retried event, is one item). The profile
keeps the latest (``terms_version``, ``terms_accepted_at``) for a quick look. Every new record is audited.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel

from coursepay.errors import ConditionFailed, InvalidRequest
from coursepay.storage.audit import AuditEntry, AuditTrail
from coursepay.storage.dynamo import DynamoTable, item_to_model

ConsentChannel = Literal["registration", "signup_checkout"]
DOCUMENT = "terms_and_privacy"


class Consent(BaseModel):
    document: str = DOCUMENT
    version: str
    accepted_at: str
    channel: ConsentChannel


def require_current(version: str, current: str, *, field: str = "accepted_terms_version") -> str:
    if version != current:
        raise InvalidRequest(f"{field}: the current terms are version {current}; accept those", field=field)
    return version


class ConsentLedger:
    def __init__(self, table_name: str, audit: AuditTrail) -> None:
        self._table = DynamoTable(table_name)
        self._audit = audit

    def record(self, user_id: str, consent: Consent, actor: str) -> None:
        key = {"pk": f"USER#{user_id}", "sk": f"CONSENT#{consent.accepted_at}#{consent.version}"}
        try:
            self._table.put_new({**key, **consent.model_dump()})
        except ConditionFailed:
            return  # this acceptance is recorded already
        self._table.update({"pk": f"USER#{user_id}", "sk": "PROFILE"},
                           set_fields={"terms_version": consent.version, "terms_accepted_at": consent.accepted_at},
                           condition="attribute_exists(pk) AND attribute_not_exists(deleted_at)")
        self._audit.record(AuditEntry(entity=f"user#{user_id}", action="account.consent_recorded", actor=actor,
                                      after=consent.model_dump()))

    def of_user(self, user_id: str) -> list[Consent]:
        items = self._table.query_all(partition=("pk", f"USER#{user_id}"), sort_prefix=("sk", "CONSENT#"))
        return [item_to_model(Consent, item) for item in items]
