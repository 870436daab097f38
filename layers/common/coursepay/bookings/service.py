from __future__ import annotations

from coursepay.bookings.models import Gig, GigPage
from coursepay.bookings.repository import GigsRepository
from coursepay.errors import NotFound


class GigCatalogue:
    def __init__(self, gigs: GigsRepository) -> None:
        self._gigs = gigs

    def list_active(self, limit: int, cursor: str | None) -> GigPage:
        return self._gigs.active(limit, cursor)

    def get_active(self, gig_id: str) -> Gig:
        gig = self._gigs.get(gig_id)
        if gig is None or not gig.active:
            raise NotFound("no such gig", field="gigId")
        return gig
