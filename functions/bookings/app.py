"""Tutoring API: GET /gigs, GET /gigs/{gigId} (public catalogue of gigs)."""

from __future__ import annotations

from functools import cache
from typing import Any

from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel, ConfigDict, Field

from coursepay.api.request_parsing import parse_model
from coursepay.api.resolver import make_resolver
from coursepay.bookings.repository import GigsRepository
from coursepay.bookings.service import GigCatalogue
from coursepay.observability import logger, metrics, tracer
from coursepay.settings import BookingsSettings, load_settings

app = make_resolver()


class PageQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")
    limit: int = Field(default=20, ge=1, le=100)
    cursor: str | None = None


@cache
def service() -> GigCatalogue:
    return GigCatalogue(GigsRepository(load_settings(BookingsSettings).bookings_table))


@app.get("/gigs")
def list_gigs() -> dict[str, Any]:
    query = parse_model(PageQuery, app.current_event.query_string_parameters or {})
    return service().list_active(query.limit, query.cursor).model_dump()


@app.get("/gigs/<gig_id>")
def get_gig(gig_id: str) -> dict[str, Any]:
    return service().get_active(gig_id).model_dump()


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
@metrics.log_metrics
@tracer.capture_lambda_handler
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
