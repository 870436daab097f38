"""Students' side of the course marketplace: start a checkout, confirm it from the success page, see and cancel
subscriptions, ask about access. Teachers' side of subscriptions (course deactivated, price moved) is
:class:`CourseSubscribersAdmin`."""

from __future__ import annotations

from typing import Any

from coursepay.accounts.repository import AccountsRepository
from coursepay.billing.checkout import Buyer, Offer
from coursepay.billing.core import BillingCore
from coursepay.billing.customers import CustomerDirectory
from coursepay.billing.enrollments import Enrollment
from coursepay.courses.billing import StripeProvider
from coursepay.courses.repository import CoursesRepository
from coursepay.errors import Conflict, InvalidRequest, NotFound, UpstreamUnavailable
from coursepay.identity import Principal
from coursepay.storage.audit import AuditEntry, AuditTrail
from coursepay.storage.batches import BatchRead
from coursepay.stripe_gateway.errors import stripe_errors
from coursepay.subscriptions.fulfilment import KIND, CourseFulfilment, as_dict
from coursepay.subscriptions.models import CheckoutRequest, Subscription
from coursepay.subscriptions.repository import SubscriptionsRepository


class CourseCheckout:
    def __init__(self, *, core: BillingCore, courses: CoursesRepository, customers: CustomerDirectory,
                 accounts: AccountsRepository, subscriptions: SubscriptionsRepository,
                 fulfilment: CourseFulfilment) -> None:
        self._core = core
        self._courses = courses
        self._customers = customers
        self._accounts = accounts
        self._enrollments = core.enrollments
        self._subscriptions = subscriptions
        self._fulfilment = fulfilment
        self._audit = core.audit
        self._stripe = core.stripe

    # ------------------------------------------------------------ checkout
    def start(self, principal: Principal, course_id: str, request: CheckoutRequest) -> dict[str, Any]:
        """The course's offer through the core's one checkout path (one open session per buyer and pricing).
        What the decision needs (course, enrollment, live-subscription mark, Stripe Customer, open session) is one
        batch read."""
        batch = BatchRead()
        wanted_course = self._courses.want(batch, course_id)
        enrollment = self._enrollments.want(batch, principal.user_id, KIND, course_id)
        # the enrollment cannot say it: an unpaid subscription is past_due there, like a live past_due one
        live_subscription = self._subscriptions.want_live(batch, principal.user_id, course_id)
        customer = self._customers.want(batch, principal.user_id)
        open_session = self._core.checkout.want_open_session(batch, principal.user_id, KIND, course_id,
                                                             request.pricing)
        batch.run()
        course = wanted_course.value
        if course is None or course.status != "active":
            raise NotFound("no such course", field="courseId")
        amount, price_id = course.price_of(request.pricing), course.price_id_of(request.pricing)
        if amount is None:
            raise InvalidRequest(f"this course is not sold as {request.pricing}", field="pricing")
        self._core.checkout.check_urls(request.success_url, request.cancel_url)
        if price_id is None:
            raise UpstreamUnavailable("this course's price is being changed; retry in a moment")
        if _access(principal, course_id, course.teacher_id, enrollment.value)["has_access"] or live_subscription.value:
            raise Conflict("you already have access to this course", field="courseId")
        customer_id = customer.value or self._customers.ensure_customer(principal.user_id, self._email_of(principal))
        offer = Offer(kind=KIND, item_id=course_id, name=course.title, pricing=request.pricing, amount=amount,
                      currency=course.currency, line_item={"price": price_id}, metadata={"course_id": course_id})
        session = self._core.checkout.open(
            Buyer(key=principal.user_id, user_id=principal.user_id, customer_id=customer_id), offer,
            success_url=request.success_url, cancel_url=request.cancel_url, known=open_session)
        return {"session_id": session.session_id, "url": session.url, "course_id": course_id,
                "pricing": request.pricing, "amount": amount, "currency": course.currency}

    def fulfil(self, principal: Principal, session_id: str) -> dict[str, Any]:
        """The success page's confirmation: the same fulfilment the webhook runs, at most once per session."""
        if not session_id.startswith("cs_"):
            raise NotFound("no such checkout session", field="sessionId")
        try:
            with stripe_errors("read the checkout session"):
                session = as_dict(self._stripe().v1.checkout.sessions.retrieve(session_id))
        except InvalidRequest:  # Stripe refuses to read a session only when it has none by that id
            raise NotFound("no such checkout session", field="sessionId") from None
        metadata = session.get("metadata") or {}
        if metadata.get("kind") != KIND or metadata.get("user_id") != principal.user_id:
            raise NotFound("no such checkout session", field="sessionId")
        fulfilled = self._fulfilment.fulfil_session(session, f"user:{principal.user_id}")
        course_id = str(metadata["course_id"])
        return {"session_id": session_id, "status": session.get("status"),
                "payment_status": session.get("payment_status"), "fulfilled": fulfilled,
                "access": self.has_access(principal, course_id)}

    # ------------------------------------------------------------ access
    def has_access(self, principal: Principal, course_id: str, *, teacher_id: str | None = None) -> dict[str, Any]:
        if teacher_id is None:
            course = self._courses.get(course_id)
            teacher_id = course.teacher_id if course else None
        enrollment = self._enrollments.get(principal.user_id, KIND, course_id)
        if teacher_id is None and enrollment is None:
            raise NotFound("no such course", field="courseId")
        return _access(principal, course_id, teacher_id, enrollment)

    def my_courses(self, principal: Principal) -> dict[str, Any]:
        items = []
        for enrollment in self._enrollments.of_user(principal.user_id, KIND):
            course = self._courses.get(enrollment.item_id)
            items.append({"course_id": enrollment.item_id, "title": course.title if course else None,
                          "has_access": enrollment.has_access(), "status": enrollment.status,
                          "access_until": enrollment.access_until, "enrolled_at": enrollment.enrolled_at})
        return {"items": items, "next_cursor": None}

    # ------------------------------------------------------------ subscriptions
    def subscriptions(self, principal: Principal) -> dict[str, Any]:
        return {"items": [s.view() for s in self._subscriptions.of_user(principal.user_id)], "next_cursor": None}

    def cancel(self, principal: Principal, subscription_id: str, *, at_period_end: bool) -> dict[str, Any]:
        subscription = self._own_subscription(principal, subscription_id)
        if subscription.status in ("canceled", "incomplete_expired"):
            raise Conflict("this subscription has already ended", field="subscriptionId")
        actor = f"user:{principal.user_id}"
        if not (at_period_end and subscription.cancel_at_period_end):
            with stripe_errors("cancel the subscription"):
                if at_period_end:
                    obj = self._stripe().v1.subscriptions.update(subscription_id,
                                                                 params={"cancel_at_period_end": True})
                else:
                    obj = self._stripe().v1.subscriptions.cancel(subscription_id)
            self._audit.record(AuditEntry(entity=f"subscription#{subscription_id}", actor=actor,
                                          action="subscription.cancel_requested",
                                          after={"at_period_end": at_period_end}))
            subscription = self._fulfilment.apply_subscription(as_dict(obj), actor) or subscription
        return subscription.view()

    def _own_subscription(self, principal: Principal, subscription_id: str) -> Subscription:
        subscription = self._subscriptions.get(subscription_id)
        if subscription is None or subscription.user_id != principal.user_id:
            raise NotFound("no such subscription", field="subscriptionId")
        return subscription

    def _email_of(self, principal: Principal) -> str:
        profile = self._accounts.get_profile(principal.user_id)
        email = profile.email if profile else principal.email
        if not email:
            raise NotFound("no profile for this user; register first")
        return email


def _access(principal: Principal, course_id: str, teacher_id: str | None,
            enrollment: Enrollment | None) -> dict[str, Any]:
    if teacher_id == principal.user_id:
        return {"course_id": course_id, "has_access": True, "reason": "teacher", "status": None,
                "access_until": None}
    if enrollment is None:
        return {"course_id": course_id, "has_access": False, "reason": None, "status": None, "access_until": None}
    access = enrollment.has_access()
    return {"course_id": course_id, "has_access": access,
            "reason": ("one_time" if enrollment.access_until is None else "subscription") if access else None,
            "status": enrollment.status, "access_until": enrollment.access_until}


class CourseSubscribersAdmin:
    """What a teacher's course changes do to its subscriptions (``CourseSubscribers`` of the course service).
    Only Stripe is changed here; the resulting ``customer.subscription.updated`` events update the records."""

    def __init__(self, subscriptions: SubscriptionsRepository, audit: AuditTrail,
                 stripe_client: StripeProvider) -> None:
        self._subscriptions = subscriptions
        self._audit = audit
        self._stripe = stripe_client

    def end_at_period_end(self, course_id: str, actor: str) -> int:
        count = 0
        for subscription in self._subscriptions.of_course(course_id):
            if not subscription.live or subscription.cancel_at_period_end:
                continue
            with stripe_errors("end a subscription at its period end"):
                self._stripe().v1.subscriptions.update(
                    subscription.subscription_id, params={"cancel_at_period_end": True},
                    options={"idempotency_key": f"course-deactivated:{subscription.subscription_id}"})
            self._audit.record(AuditEntry(entity=f"subscription#{subscription.subscription_id}", actor=actor,
                                          action="subscription.cancel_requested",
                                          after={"at_period_end": True, "reason": "course_deactivated"}))
            count += 1
        return count

    def move_to_price(self, course_id: str, price_id: str, actor: str) -> int:
        count = 0
        for subscription in self._subscriptions.of_course(course_id):
            if not subscription.live or subscription.price_id == price_id or not subscription.subscription_item_id:
                continue
            with stripe_errors("move a subscription to the new price"):
                self._stripe().v1.subscriptions.update(
                    subscription.subscription_id,
                    params={"items": [{"id": subscription.subscription_item_id, "price": price_id}],
                            "proration_behavior": "none"},
                    options={"idempotency_key": f"course-price-move:{subscription.subscription_id}:{price_id}"})
            self._audit.record(AuditEntry(entity=f"subscription#{subscription.subscription_id}", actor=actor,
                                          action="subscription.price_moved",
                                          before={"price_id": subscription.price_id}, after={"price_id": price_id}))
            count += 1
        return count
