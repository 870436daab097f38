"""``account.updated`` of a teacher's Connect account: record charges/payouts enabled on their payout record.

Dispatched by event type (an Account carries no product kind). Forward-only: the state is applied only if
the event is newer (``created``) than the one the record holds, so a late or replayed old event never
overwrites a newer state. Two events of the same second cannot be ordered by ``created``: when one brings a
state other than the recorded one, the account is read from Stripe and that state recorded. Every applied
change is audited."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from coursepay.bookings.payouts import account_state
from coursepay.bookings.payouts_repository import PayoutAccountsRepository
from coursepay.clock import iso_now
from coursepay.events.envelope import Envelope
from coursepay.events.handlers import EnvelopeHandler, stripe_object
from coursepay.observability import logger
from coursepay.storage.audit import AuditEntry, AuditTrail


class PayoutAccountUpdates:
    def __init__(self, accounts: PayoutAccountsRepository, audit: AuditTrail,
                 retrieve_account: Callable[[str], dict[str, Any]]) -> None:
        self._accounts = accounts
        self._audit = audit
        self._retrieve_account = retrieve_account

    def handlers(self) -> dict[str, EnvelopeHandler]:
        return {"account.updated": self.account_updated}

    def account_updated(self, envelope: Envelope) -> None:
        account = stripe_object(envelope)
        account_id = str(envelope.data.get("account") or account.get("id") or "")
        teacher_id = self._accounts.teacher_of(account_id) if account_id else None
        if teacher_id is None:
            logger.info("account.updated of an account that is no teacher's", account=account_id)
            return
        state = account_state(account)
        created = int(envelope.data.get("created") or 0)
        if not self._accounts.record_state(teacher_id, state, state_at=created, updated_at=iso_now()):
            stored = self._accounts.get(teacher_id)
            recorded = stored.model_dump(include=set(state)) if stored else None
            if stored is None or stored.state_at != created or recorded == state:
                logger.info("older account.updated ignored", account=account_id, event=envelope.id)
                return
            state = account_state(self._retrieve_account(account_id))  # a same-second tie: ask Stripe
            if not self._accounts.record_state(teacher_id, state, state_at=created, updated_at=iso_now(),
                                               same_second=True):
                return
        self._audit.record(AuditEntry(entity=f"payouts#{teacher_id}", action="payouts.account_updated",
                                      actor=f"stripe:{envelope.id}", after={**state, "state_at": created}))
