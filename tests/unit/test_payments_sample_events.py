"""The payments function's samples in events/ (for `sam local invoke PaymentsFunction -e events/payments-*.json`),
each invoked here with the function's template environment, the catalogue seeded and the Stripe sandbox."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.support.api_events import body_of

pytest_plugins = ("tests.support.tracks_fixtures",)

EVENTS = Path(__file__).resolve().parents[2] / "events"


def test_every_payments_sample_is_covered():
    assert sorted(p.name for p in EVENTS.glob("payments-*.json")) == sorted(
        ["payments-list-tracks.json", "payments-create-payment-intent.json", "payments-signup-checkout.json"])


@pytest.mark.parametrize(("sample", "status", "check"), [
    ("payments-list-tracks.json", 200, lambda body: [t["track_id"] for t in body["items"]] == ["DP", "FSD"]),
    ("payments-create-payment-intent.json", 201, lambda body: body["amount"] == 49900),
    ("payments-signup-checkout.json", 201, lambda body: body["session_id"].startswith("cs_")),
])
def test_payments_sample_invokes_the_function(payments, lambda_context, sample, status, check):
    response = payments.lambda_handler(json.loads((EVENTS / sample).read_text()), lambda_context)
    assert response["statusCode"] == status, response["body"]
    assert check(body_of(response))
