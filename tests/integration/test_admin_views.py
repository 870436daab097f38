"""The admin views through the local stack (issue 11): a real purchase shows up in the payment search (filtered,
paged), in the buyer's overview and in the summary the fulfilment consumer keeps; only admins may look."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest

from tests.support.billing_stack import (
    COURSE,
    Buyer,
    course_checkout,
    create_course,
    pay,
    payment_view,
    register,
)

TEACHER = "teacher@coursepay.local"
ADMIN = "admin@coursepay.local"


@pytest.fixture(scope="module")
def admin(login: Callable[..., dict[str, Any]]) -> str:
    return str(login(ADMIN)["access_token"])


@pytest.fixture(scope="module")
def buyer_with_two_purchases(api: Any, stack: Any, login: Callable[..., dict[str, Any]],
                             eventually: Callable[..., Any]) -> tuple[Buyer, list[str], list[str]]:
    """(buyer, the two course ids, their two payment ids, oldest first), both paid and fulfilled."""
    teacher = str(login(TEACHER)["access_token"])
    buyer = register(api, stack, login, prefix="admin-view")
    courses, payments = [], []
    for _ in range(2):
        course_id = create_course(api, teacher)
        started = course_checkout(api, stack, buyer.token, course_id)
        assert started.status_code == 201, started.text
        session_id = started.json()["session_id"]
        assert pay(stack, session_id)["outcome"] == "complete"
        eventually(lambda session_id=session_id: payment_view(api, buyer.token, session_id)["status"] == "succeeded")
        courses.append(course_id)
        payments.append(session_id)
    return buyer, courses, payments


def today() -> str:
    return datetime.now(UTC).date().isoformat()


def test_only_admins_see_the_admin_views(api: Any, stack: Any, login: Callable[..., dict[str, Any]]) -> None:
    student = register(api, stack, login, prefix="not-admin")
    for path in ("/admin/payments", "/admin/summary", f"/admin/users/{student.user_id}", "/admin/refund-requests"):
        response = api.get(path, token=student.token)
        assert response.status_code == 403, (path, response.text)
        assert response.json()["error"]["code"] == "forbidden", path
    assert api.get("/admin/payments").status_code == 401


def test_the_payment_search_filters_by_user_and_pages(api: Any, admin: str, buyer_with_two_purchases) -> None:
    buyer, _, payments = buyer_with_two_purchases
    query = {"user_id": buyer.user_id, "status": "succeeded", "kind": "course", "from": today(), "to": today()}
    first = api.get("/admin/payments", token=admin, params={**query, "limit": 1})
    assert first.status_code == 200, first.text
    assert [p["payment_id"] for p in first.json()["items"]] == [payments[1]]  # newest first
    cursor = first.json()["next_cursor"]
    assert cursor
    second = api.get("/admin/payments", token=admin, params={**query, "limit": 1, "cursor": cursor})
    assert second.status_code == 200, second.text
    assert [p["payment_id"] for p in second.json()["items"]] == [payments[0]]
    assert all(p["amount"] == COURSE["one_time_price"] and p["user_id"] == buyer.user_id
               for p in first.json()["items"] + second.json()["items"])

    refused = api.get("/admin/payments", token=admin, params={**query, "status": "lost"})
    assert refused.status_code == 400, refused.text
    assert refused.json()["error"]["field"] == "status"
    none_failed = api.get("/admin/payments", token=admin, params={**query, "status": "failed"})
    assert none_failed.status_code == 200
    assert none_failed.json()["items"] == []


def test_a_users_overview_has_their_payments_and_enrollments(api: Any, admin: str, buyer_with_two_purchases) -> None:
    buyer, courses, payments = buyer_with_two_purchases
    response = api.get(f"/admin/users/{buyer.user_id}", token=admin)
    assert response.status_code == 200, response.text
    overview = response.json()
    assert overview["user_id"] == buyer.user_id
    assert sorted(p["payment_id"] for p in overview["payments"]) == sorted(payments)
    enrolled = {e["item_id"]: e["status"] for e in overview["enrollments"]}
    assert enrolled == dict.fromkeys(courses, "active")


def test_the_summary_counts_the_purchases(api: Any, stack: Any, admin: str, login: Callable[..., dict[str, Any]],
                                          eventually: Callable[..., Any]) -> None:
    def course_revenue() -> tuple[int, int]:
        response = api.get("/admin/summary", token=admin, params={"from": today(), "to": today()})
        assert response.status_code == 200, response.text
        rows = [r for r in response.json()["revenue"] if (r["kind"], r["currency"]) == ("course", "usd")]
        return (rows[0]["succeeded"], rows[0]["revenue"]) if rows else (0, 0)

    before_count, before_revenue = course_revenue()
    teacher = str(login(TEACHER)["access_token"])
    buyer = register(api, stack, login, prefix="summary")
    started = course_checkout(api, stack, buyer.token, create_course(api, teacher))
    assert started.status_code == 201, started.text
    assert pay(stack, started.json()["session_id"])["outcome"] == "complete"
    # kept by the fulfilment consumer from the ledger's events, so it catches up shortly after the payment
    eventually(lambda: course_revenue()[0] > before_count)
    count, revenue = course_revenue()
    assert revenue - before_revenue == (count - before_count) * COURSE["one_time_price"]
