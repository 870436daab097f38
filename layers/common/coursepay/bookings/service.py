"""Gigs: a teacher creates, edits, publishes, pauses and archives their own (admins any); the public sees
active gigs and a teacher's profile. Every change is audited."""

from __future__ import annotations

import hashlib
import uuid

from coursepay.bookings.models import Gig, GigPage, GigStatus, GigView, TeacherProfile
from coursepay.bookings.payouts_repository import PayoutAccountsRepository
from coursepay.bookings.repository import GigsRepository
from coursepay.bookings.requests import CreateGigRequest, GigQuery, UpdateGigRequest
from coursepay.clock import iso_now
from coursepay.errors import ConditionFailed, Conflict, Forbidden, NotFound
from coursepay.identity import ADMINS, TEACHERS, Principal
from coursepay.storage.audit import AuditEntry, AuditTrail

# Which status each action leads to, and from which statuses it may be taken.
TRANSITIONS: dict[str, tuple[GigStatus, frozenset[GigStatus]]] = {
    "publish": ("active", frozenset({"draft", "paused"})),
    "pause": ("paused", frozenset({"active"})),
    "archive": ("archived", frozenset({"draft", "active", "paused"})),
}


def gig_id_for(teacher_id: str, idempotency_key: str | None) -> str:
    """A repeated creation request (same teacher, same Idempotency-Key) names the same gig."""
    if not idempotency_key:
        return f"gig_{uuid.uuid4().hex[:20]}"
    return f"gig_{hashlib.sha256(f'{teacher_id}\n{idempotency_key}'.encode()).hexdigest()[:20]}"


def _audit_entry(gig: Gig, action: str, principal: Principal, before: Gig | None) -> AuditEntry:
    return AuditEntry(entity=f"gig#{gig.gig_id}", action=action, actor=f"user:{principal.user_id}",
                      before=before.model_dump() if before else None, after=gig.model_dump())


class GigService:
    def __init__(self, gigs: GigsRepository, payouts: PayoutAccountsRepository, audit: AuditTrail) -> None:
        self._gigs = gigs
        self._payouts = payouts
        self._audit = audit

    # ------------------------------------------------------------------ teachers
    def create(self, principal: Principal, request: CreateGigRequest, idempotency_key: str | None) -> Gig:
        principal.require_any_group(TEACHERS, ADMINS)
        now = iso_now()
        gig = Gig(gig_id=gig_id_for(principal.user_id, idempotency_key), teacher_id=principal.user_id,
                  created_at=now, updated_at=now, **request.model_dump())
        try:
            self._gigs.create(gig)
        except ConditionFailed:
            stored = self._gigs.get(gig.gig_id)
            if stored is None:  # pragma: no cover - the item that failed the condition cannot vanish
                raise
            return stored  # the same request again: the gig it made
        self._audit.record(_audit_entry(gig, "gig.created", principal, None))
        return gig

    def update(self, principal: Principal, gig_id: str, request: UpdateGigRequest) -> Gig:
        gig = self._owned(principal, gig_id)
        if gig.status == "archived":
            raise Conflict("an archived gig cannot be edited", field="gigId")
        if request.version != gig.version:
            raise Conflict("the gig changed since it was read; read it again and retry", field="version")
        changes = request.model_dump(exclude_unset=True, exclude={"version"})
        updated = gig.model_copy(update={**changes, "version": gig.version + 1, "updated_at": iso_now()})
        updated = Gig.model_validate(updated.model_dump())
        self._gigs.replace(updated, gig.version)
        self._audit.record(_audit_entry(updated, "gig.updated", principal, gig))
        return updated

    def transition(self, principal: Principal, gig_id: str, action: str) -> Gig:
        target, allowed_from = TRANSITIONS[action]
        gig = self._owned(principal, gig_id)
        if gig.status == target:
            return gig  # the same click again
        if gig.status not in allowed_from:
            raise Conflict(f"a {gig.status} gig cannot be {'published' if action == 'publish' else action + 'd'}",
                           field="gigId")
        if target == "active":
            self._require_payouts(gig.teacher_id)
        updated = gig.model_copy(update={"status": target, "version": gig.version + 1, "updated_at": iso_now()})
        self._gigs.replace(updated, gig.version)
        self._audit.record(_audit_entry(updated, f"gig.{target}", principal, gig))
        return updated

    def teacher_gigs(self, principal: Principal, *, limit: int, cursor: str | None) -> GigPage:
        principal.require_any_group(TEACHERS, ADMINS)
        return self._gigs.of_teacher(principal.user_id, limit=limit, cursor=cursor)

    def get_own(self, principal: Principal, gig_id: str) -> Gig:
        return self._owned(principal, gig_id)

    # ------------------------------------------------------------------ public
    def browse(self, query: GigQuery) -> GigPage:
        return self._gigs.public(query)

    def get_active(self, gig_id: str) -> Gig:
        gig = self._gigs.get(gig_id)
        if gig is None or not gig.active:
            raise NotFound("no such gig", field="gigId")
        return gig

    def profile(self, teacher_id: str) -> TeacherProfile:
        gigs: list[Gig] = []
        cursor: str | None = None
        while True:  # a teacher has a handful of gigs; the profile shows them all
            page = self._gigs.public(GigQuery(teacher_id=teacher_id, limit=100, cursor=cursor))
            gigs.extend(page.items)
            cursor = page.next_cursor
            if cursor is None:
                break
        if not gigs:  # a teacher is public through their active gigs
            raise NotFound("no such teacher", field="teacherId")
        return TeacherProfile(teacher_id=teacher_id, gigs=gigs)

    # ------------------------------------------------------------------ helpers
    def _require_payouts(self, teacher_id: str) -> None:
        account = self._payouts.get(teacher_id)
        if account is None:
            raise Conflict("the teacher has not set up payouts: start payout onboarding "
                           "(POST /teacher/payouts/onboarding) before publishing a gig", code="payouts_not_enabled")
        if not account.payouts_enabled:
            raise Conflict("the teacher's payouts are not enabled yet: finish Stripe onboarding "
                           f"(still due: {', '.join(account.requirements_due) or 'Stripe review'}) "
                           "before publishing a gig", code="payouts_not_enabled")

    def _owned(self, principal: Principal, gig_id: str) -> Gig:
        gig = self._gigs.get(gig_id)
        if gig is None:
            raise NotFound("no such gig", field="gigId")
        if gig.teacher_id != principal.user_id and not principal.is_admin:
            if not gig.active:  # another teacher's draft, paused or archived gig is not theirs to know of
                raise NotFound("no such gig", field="gigId")
            raise Forbidden("only the gig's teacher or an admin may change it")
        return gig


def public_view(gig: Gig) -> GigView:
    return GigView.model_validate(gig.model_dump(exclude={"version"}))
