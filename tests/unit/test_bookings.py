"""Gig catalogue (bookings function) with moto in-process."""

from __future__ import annotations

import pytest

from coursepay.bookings.models import Gig
from coursepay.bookings.repository import GigsRepository
from tests.support.api_events import body_of, http_event


@pytest.fixture
def bookings(load_function, aws):
    module = load_function("BookingsFunction", "bookings")
    gigs = GigsRepository(aws.name("BookingsTable"))
    for n in range(3):
        gigs.save(Gig(gig_id=f"gig_{n}", teacher_id="t1", title=f"Algebra {n}", hourly_rate=4000 + n,
                      created_at=f"2026-11-0{n + 1}T00:00:00Z"))
    gigs.save(Gig(gig_id="gig_off", teacher_id="t1", title="Retired", hourly_rate=1000, active=False,
                  created_at="2026-11-05T00:00:00Z"))
    return module


def test_active_gigs_are_listed_newest_first_with_a_cursor(bookings, lambda_context):
    first = body_of(bookings.lambda_handler(http_event("GET", "/gigs", query={"limit": "2"}), lambda_context))
    assert [gig["gig_id"] for gig in first["items"]] == ["gig_2", "gig_1"]
    assert first["items"][0]["hourly_rate"] == 4002
    rest = body_of(bookings.lambda_handler(
        http_event("GET", "/gigs", query={"limit": "2", "cursor": first["next_cursor"]}), lambda_context))
    assert [gig["gig_id"] for gig in rest["items"]] == ["gig_0"]


def test_one_gig_by_id_and_404_for_inactive_or_unknown(bookings, lambda_context):
    found = bookings.lambda_handler(http_event("GET", "/gigs/gig_1", route="/gigs/{gigId}"), lambda_context)
    assert body_of(found)["title"] == "Algebra 1"
    for gig_id in ("gig_off", "nope"):
        missing = bookings.lambda_handler(http_event("GET", f"/gigs/{gig_id}", route="/gigs/{gigId}"), lambda_context)
        assert missing["statusCode"] == 404
        assert body_of(missing)["error"]["field"] == "gigId"


@pytest.mark.parametrize(("query", "field"), [({"limit": "0"}, "limit"), ({"limit": "x"}, "limit"),
                                              ({"cursor": "%%%"}, "cursor"), ({"sort": "up"}, "sort")])
def test_bad_query_parameters_are_400_naming_the_field(bookings, lambda_context, query, field):
    response = bookings.lambda_handler(http_event("GET", "/gigs", query=query), lambda_context)
    assert response["statusCode"] == 400
    assert body_of(response)["error"]["field"] == field
