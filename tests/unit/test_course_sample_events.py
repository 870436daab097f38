"""The course marketplace's samples in events/ (courses-*.json, checkout-*.json) invoke their functions and do
what they are for (the Stripe sandbox in-process stands in for Stripe)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from coursepay.accounts.models import Profile
from coursepay.accounts.repository import AccountsRepository
from tests.support.course_market import Market, running_sandbox

EVENTS = Path(__file__).resolve().parents[2] / "events"
PATTERNS = ("courses-*.json", "checkout-*.json")


def load(name):
    return json.loads((EVENTS / name).read_text())


@pytest.fixture
def market(load_function, monkeypatch, lambda_context):
    with running_sandbox() as sandbox:
        yield Market(load_function, monkeypatch, sandbox, lambda_context)


def invoke(market, module, name):
    response = module.lambda_handler(load(name), market.context)
    return response["statusCode"], json.loads(response["body"])


def test_the_samples_are_the_ones_tested_here():
    names = sorted(path.name for pattern in PATTERNS for path in EVENTS.glob(pattern))
    assert names == ["checkout-course-monthly.json", "courses-create.json", "courses-list.json"]


def test_create_list_and_checkout_samples(market, aws):
    status, course = invoke(market, market.courses, "courses-create.json")
    assert status == 201, course
    assert course["status"] == "active"
    status, listed = invoke(market, market.courses, "courses-list.json")
    assert status == 200
    assert [c["course_id"] for c in listed["items"]] == [course["course_id"]]

    checkout = load("checkout-course-monthly.json")
    assert checkout["pathParameters"]["courseId"] == course["course_id"]  # the create sample's Idempotency-Key
    student = checkout["requestContext"]["authorizer"]["jwt"]["claims"]["sub"]
    AccountsRepository(aws.name("AccountsTable")).save_profile(
        Profile(user_id=student, email="student@example.com", name="Student", created_at="2026-01-01"))
    status, session = invoke(market, market.checkout, "checkout-course-monthly.json")
    assert status == 201, session
    assert session["session_id"].startswith("cs_")
    assert session["pricing"] == "monthly"
