"""Who is acting: a signed-in user with their groups. Domain code asks this; how it is read from a request
(the JWT claims API Gateway verified) is the HTTP adapter's business (``coursepay.api.principal``)."""

from __future__ import annotations

from pydantic import BaseModel

from coursepay.errors import Forbidden

STUDENTS = "students"
TEACHERS = "teachers"
ADMINS = "admins"


class Principal(BaseModel):
    user_id: str
    email: str | None = None
    groups: frozenset[str] = frozenset()

    @property
    def is_admin(self) -> bool:
        return ADMINS in self.groups

    def require_any_group(self, *groups: str) -> None:
        if not self.groups.intersection(groups):
            raise Forbidden(f"this requires membership of one of: {', '.join(groups)}")
