"""Teachers' course management and the public catalogue.

Creation is a small saga made safe to repeat: the course is stored as ``pending_billing`` (never listed, never
sold), then the Stripe Product and Prices are made with idempotency keys, each id stored as soon as it exists,
and only then is the course ``active``. If Stripe fails half-way the caller gets a 503 and the course stays
hidden; repeating the request (same ``Idempotency-Key``) or any later edit resumes where it stopped, and can
never make a second Product (deterministic Product id) or a second Price for the same edit.
"""

from __future__ import annotations

import hashlib
import uuid
from typing import Any, Protocol

from coursepay.clock import iso_now
from coursepay.courses.billing import CourseCatalogueBilling
from coursepay.courses.models import (
    PRICING_TYPES,
    CatalogueQuery,
    Course,
    CreateCourseRequest,
    PriceRecord,
    PricingType,
    UpdateCourseRequest,
)
from coursepay.courses.repository import CoursesRepository
from coursepay.errors import ConditionFailed, Conflict, Forbidden, InvalidRequest, NotFound
from coursepay.identity import ADMINS, TEACHERS, Principal
from coursepay.storage.audit import AuditEntry, AuditTrail
from coursepay.views import PageQuery


class CourseSubscribers(Protocol):
    """What course management needs from subscriptions (implemented in ``coursepay.subscriptions``)."""

    def end_at_period_end(self, course_id: str, actor: str) -> int: ...

    def move_to_price(self, course_id: str, price_id: str, actor: str) -> int: ...


def _actor(principal: Principal) -> str:
    return f"user:{principal.user_id}"


def _snapshot(course: Course) -> dict[str, Any]:
    return course.model_dump(exclude={"version"})


def course_id_for(teacher_id: str, idempotency_key: str | None) -> str:
    """A repeated creation request (same teacher, same Idempotency-Key) names the same course."""
    if not idempotency_key:
        return f"crs_{uuid.uuid4().hex[:20]}"
    digest = hashlib.sha256(f"{teacher_id}\n{idempotency_key}".encode()).hexdigest()
    return f"crs_{digest[:20]}"


class CourseService:
    def __init__(self, courses: CoursesRepository, billing: CourseCatalogueBilling, audit: AuditTrail,
                 subscribers: CourseSubscribers | None = None) -> None:
        self._courses = courses
        self._billing = billing
        self._audit = audit
        self._subscribers = subscribers

    # ------------------------------------------------------------------ teachers
    def create(self, principal: Principal, request: CreateCourseRequest, idempotency_key: str | None) -> Course:
        principal.require_any_group(TEACHERS, ADMINS)
        if idempotency_key is not None and not 1 <= len(idempotency_key) <= 200:
            raise InvalidRequest("Idempotency-Key must have 1 to 200 characters", field="Idempotency-Key")
        course = Course(course_id=course_id_for(principal.user_id, idempotency_key), teacher_id=principal.user_id,
                        **request.model_dump())
        try:
            course = self._courses.create(course)
        except ConditionFailed:
            existing = self._courses.get(course.course_id)
            if existing is None:
                raise
            if (existing.title, existing.monthly_price, existing.one_time_price, existing.currency) != (
                    course.title, course.monthly_price, course.one_time_price, course.currency) \
                    and existing.revision == 1:
                raise Conflict("this Idempotency-Key was used for a different course",
                               field="Idempotency-Key") from None
            return self.complete_billing(existing, _actor(principal))
        self._audit.record(AuditEntry(entity=f"course#{course.course_id}", action="course.created",
                                      actor=_actor(principal), after=_snapshot(course)))
        return self.complete_billing(course, _actor(principal))

    def complete_billing(self, course: Course, actor: str) -> Course:
        """Bring Stripe in line with the stored course; safe to run any number of times."""
        if course.status == "inactive":
            return course
        if course.stripe_product_id is None:
            product_id = self._billing.ensure_product(course)
            course = self._courses.save(course.model_copy(update={"stripe_product_id": product_id}))
        for pricing in PRICING_TYPES:
            amount = course.price_of(pricing)
            if amount is not None and course.price_id_of(pricing) is None:
                price_id = self._billing.create_price(course, pricing, amount)
                self._courses.add_price(PriceRecord(price_id=price_id, course_id=course.course_id, pricing=pricing,
                                                    amount=amount, currency=course.currency))
                course = self._courses.save(course.model_copy(update={f"{pricing}_price_id": price_id}))
        self._archive_prices(course, states=("superseded",))
        if course.status == "pending_billing":
            before = course
            course = self._courses.save(course.model_copy(update={"status": "active"}))
            self._audit.record(AuditEntry(entity=f"course#{course.course_id}", action="course.activated",
                                          actor=actor, before={"status": before.status},
                                          after=_snapshot(course)))
        return course

    def update(self, principal: Principal, course_id: str, request: UpdateCourseRequest) -> Course:
        course = self._owned(principal, course_id)
        if course.status == "inactive":
            raise Conflict("the course is deactivated", field="courseId")
        actor = _actor(principal)
        course = self.complete_billing(course, actor)
        fields = request.model_fields_set
        changes: dict[str, Any] = {name: getattr(request, name) for name in ("title", "description", "outline")
                                   if name in fields}
        currency = request.currency if "currency" in fields and request.currency else course.currency
        changes["currency"] = currency
        repriced: list[PricingType] = []
        for pricing in PRICING_TYPES:
            name = f"{pricing}_price"
            amount = getattr(request, name) if name in fields else course.price_of(pricing)
            changes[name] = amount
            if amount != course.price_of(pricing) or (amount is not None and currency != course.currency):
                repriced.append(pricing)
                changes[f"{pricing}_price_id"] = None
        if changes["monthly_price"] is None and changes["one_time_price"] is None:
            raise InvalidRequest("a course needs a monthly_price, a one_time_price or both", field="monthly_price")
        if repriced:
            changes["revision"] = course.revision + 1
        updated = course.model_copy(update=changes)
        if {"title", "description"} & fields:
            self._billing.update_product_text(updated)
        saved = self._courses.save(updated)
        now = iso_now()
        for pricing in repriced:
            old = course.price_id_of(pricing)
            if old is not None:
                self._courses.set_price_state(course.course_id, old, state="superseded", superseded_at=now)
        self._audit.record(AuditEntry(entity=f"course#{course_id}",
                                      action="course.price_changed" if repriced else "course.updated",
                                      actor=actor, before=_snapshot(course), after=_snapshot(saved)))
        saved = self.complete_billing(saved, actor)
        if request.move_subscribers and "monthly" in repriced and saved.monthly_price_id and self._subscribers:
            moved = self._subscribers.move_to_price(course_id, saved.monthly_price_id, actor)
            self._audit.record(AuditEntry(entity=f"course#{course_id}", action="course.subscribers_moved",
                                          actor=actor, after={"price_id": saved.monthly_price_id, "moved": moved}))
        return saved

    def deactivate(self, principal: Principal, course_id: str) -> Course:
        """Hide the course, archive its Product and Prices, and let subscriptions run to the end of the paid
        period (no renewal). One-time buyers keep their access. Repeating it finishes any step that failed."""
        course = self._owned(principal, course_id)
        actor = _actor(principal)
        if course.status != "inactive":
            before = course
            course = self._courses.save(course.model_copy(update={"status": "inactive", "deactivated_at": iso_now()}))
            self._audit.record(AuditEntry(entity=f"course#{course_id}", action="course.deactivated", actor=actor,
                                          before=_snapshot(before), after=_snapshot(course)))
        if course.stripe_product_id:
            self._billing.archive_product(course.stripe_product_id)
        self._archive_prices(course, states=("current", "superseded"))
        if self._subscribers is not None:
            self._subscribers.end_at_period_end(course_id, actor)
        return course

    def teacher_courses(self, principal: Principal, page: PageQuery) -> dict[str, Any]:
        principal.require_any_group(TEACHERS, ADMINS)
        courses, next_cursor = self._courses.of_teacher_page(principal.user_id, limit=page.limit, cursor=page.cursor)
        return {"items": [course.public_view() for course in courses], "next_cursor": next_cursor}

    def teacher_course(self, principal: Principal, course_id: str) -> dict[str, Any]:
        """The management view (any status, price history): teachers and admins only, like the list."""
        principal.require_any_group(TEACHERS, ADMINS)
        return self.get(course_id, principal)

    # ------------------------------------------------------------------ public
    def catalogue(self, query: CatalogueQuery) -> dict[str, Any]:
        courses, next_cursor = self._courses.catalogue_page(limit=query.limit, cursor=query.cursor,
                                                            teacher_id=query.teacher_id)
        return {"items": [course.public_view() for course in courses], "next_cursor": next_cursor}

    def get(self, course_id: str, principal: Principal | None) -> dict[str, Any]:
        course = self._courses.get(course_id)
        manager = course is not None and principal is not None and (
            principal.is_admin or principal.user_id == course.teacher_id)
        if course is None or (course.status != "active" and not manager):
            raise NotFound("no such course", field="courseId")
        view = course.public_view()
        if manager:
            view["price_history"] = [record.model_dump() for record in self._courses.price_history(course_id)]
            view["stripe_product_id"] = course.stripe_product_id
        return view

    # ------------------------------------------------------------------ helpers
    def _owned(self, principal: Principal, course_id: str) -> Course:
        course = self._courses.get(course_id)
        if course is None:
            raise NotFound("no such course", field="courseId")
        if course.teacher_id != principal.user_id and not principal.is_admin:
            if course.status != "active":
                raise NotFound("no such course", field="courseId")
            raise Forbidden("only the course's teacher or an admin may change it")
        return course

    def _archive_prices(self, course: Course, *, states: tuple[str, ...]) -> None:
        for record in self._courses.price_history(course.course_id):
            if record.state in states:
                self._billing.archive_price(record.price_id)
                self._courses.set_price_state(course.course_id, record.price_id, state="archived",
                                              archived_at=iso_now())
