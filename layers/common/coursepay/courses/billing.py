"""The course's side of Stripe: one Product per course, one Price per pricing option and edit.

Every call carries an idempotency key derived from the course id and its ``revision``, and the Product has a
deterministic id (``coursepay_<course id>``), so a retried creation or edit can never make a second Product or a
second Price for the same edit, even after Stripe has forgotten the idempotency key (24 hours).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from coursepay.courses.models import Course, PricingType
from coursepay.stripe_gateway.errors import stripe_errors

if TYPE_CHECKING:
    import stripe

StripeProvider = Callable[[], "stripe.StripeClient"]


def product_id_for(course_id: str) -> str:
    return f"coursepay_{course_id}"


def _metadata(course: Course) -> dict[str, str]:
    return {"kind": "course", "course_id": course.course_id, "teacher_id": course.teacher_id}


class CourseCatalogueBilling:
    def __init__(self, stripe_client: StripeProvider) -> None:
        self._stripe = stripe_client

    def ensure_product(self, course: Course) -> str:
        import stripe

        params: dict[str, Any] = {"id": product_id_for(course.course_id), "name": course.title,
                                  "metadata": _metadata(course)}
        if course.description:
            params["description"] = course.description[:5000]
        with stripe_errors("create the course's product"):
            try:
                product = self._stripe().v1.products.create(
                    params=params,  # type: ignore[arg-type]
                    options={"idempotency_key": f"course:{course.course_id}:product"})
            except stripe.InvalidRequestError as error:
                if error.code != "resource_already_exists":
                    raise
                product = self._stripe().v1.products.retrieve(product_id_for(course.course_id))
        return str(product.id)

    def create_price(self, course: Course, pricing: PricingType, amount: int) -> str:
        params: dict[str, Any] = {
            "product": course.stripe_product_id, "currency": course.currency, "unit_amount": amount,
            "metadata": {**_metadata(course), "pricing": pricing, "revision": str(course.revision)},
            "nickname": f"{course.title[:80]} ({'monthly' if pricing == 'monthly' else 'one-time'})",
        }
        if pricing == "monthly":
            params["recurring"] = {"interval": "month", "interval_count": 1}
        key = f"course:{course.course_id}:price:{pricing}:r{course.revision}:{course.currency}:{amount}"
        with stripe_errors(f"create the course's {pricing} price"):
            price = self._stripe().v1.prices.create(params=params,  # type: ignore[arg-type]
                                                    options={"idempotency_key": key})
        return str(price.id)

    def update_product_text(self, course: Course) -> None:
        if course.stripe_product_id is None:
            return
        params: dict[str, Any] = {"name": course.title}
        if course.description:  # Stripe refuses to unset a Product's description with ""
            params["description"] = course.description[:5000]
        with stripe_errors("update the course's product"):
            self._stripe().v1.products.update(course.stripe_product_id, params=params)  # type: ignore[arg-type]

    def archive_price(self, price_id: str) -> None:
        with stripe_errors("archive a price"):
            self._stripe().v1.prices.update(price_id, params={"active": False})

    def archive_product(self, product_id: str) -> None:
        with stripe_errors("archive the course's product"):
            self._stripe().v1.products.update(product_id, params={"active": False})
