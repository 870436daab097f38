"""What money events do to access, the same for every product kind: a full refund withdraws the enrollment
the payment granted, an open dispute suspends it, a won dispute restores it and a lost one withdraws it.

Only the enrollment a payment (or its subscription) *granted* is touched: a refund of a duplicate purchase
never withdraws the access the first purchase gave. Each change is a state write plus an audit entry, and
repeating it changes nothing.
"""

from __future__ import annotations

from coursepay.billing.enrollments import Enrollment, EnrollmentsRepository
from coursepay.billing.payments import Payment
from coursepay.clock import iso_now
from coursepay.storage.audit import AuditEntry, AuditTrail


def grant_source(payment: Payment) -> str:
    """What an enrollment records as its source for this payment: a subscription's invoices grant access
    through the subscription, every other payment through itself."""
    return payment.stripe_subscription_id or payment.payment_id


class AccessChanges:
    def __init__(self, enrollments: EnrollmentsRepository, audit: AuditTrail) -> None:
        self._enrollments = enrollments
        self._audit = audit

    def granted_by(self, payment: Payment) -> Enrollment | None:
        if payment.user_id is None:
            return None
        enrollment = self._enrollments.get(payment.user_id, payment.kind, payment.item_id)
        return enrollment if enrollment is not None and enrollment.source == grant_source(payment) else None

    def withdraw(self, payment: Payment, actor: str, reason: str) -> Enrollment | None:
        """Withdrawn (and returned) when this payment granted it; None when there is nothing to withdraw."""
        enrollment = self.granted_by(payment)
        if enrollment is None:
            return None
        if enrollment.status != "withdrawn":
            self._save(enrollment, enrollment.model_copy(update={"status": "withdrawn", "suspended_status": None}),
                       f"enrollment.withdrawn.{reason}", actor)
        return enrollment.model_copy(update={"status": "withdrawn"})

    def suspend(self, payment: Payment, actor: str) -> Enrollment | None:
        enrollment = self.granted_by(payment)
        if enrollment is None or enrollment.status in ("suspended", "withdrawn"):
            return enrollment
        suspended = enrollment.model_copy(update={"status": "suspended", "suspended_status": enrollment.status})
        self._save(enrollment, suspended, "enrollment.suspended.dispute", actor)
        return suspended

    def restore(self, payment: Payment, actor: str) -> Enrollment | None:
        enrollment = self.granted_by(payment)
        if enrollment is None or enrollment.status != "suspended":
            return enrollment
        restored = enrollment.model_copy(update={"status": enrollment.suspended_status or "active",
                                                 "suspended_status": None})
        self._save(enrollment, restored, "enrollment.restored.dispute_won", actor)
        return restored

    def _save(self, before: Enrollment, after: Enrollment, action: str, actor: str) -> None:
        after = after.model_copy(update={"updated_at": iso_now()})
        self._enrollments.save(after)
        self._audit.record(AuditEntry(entity=f"enrollment#{after.user_id}#{after.kind}#{after.item_id}",
                                      action=action, actor=actor, before=before.model_dump(),
                                      after=after.model_dump()))
