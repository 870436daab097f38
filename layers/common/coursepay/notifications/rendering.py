"""The template library: every e-mail is ``templates/<name>.html`` and ``templates/<name>.txt``, both
extending one base layout (``base.html`` / ``base.txt``).

HTML is autoescaped (an item name is data, never markup); the plain-text part is not escaped at all, so it
reads exactly as written. A variable a template uses but the caller did not pass is an error
(``StrictUndefined``), not an empty string in a customer's e-mail.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING, Any

from coursepay.notifications.money import format_amount

if TYPE_CHECKING:
    from jinja2 import Environment


@dataclass(frozen=True)
class RenderedEmail:
    subject: str
    html: str
    text: str


@cache
def environment() -> Environment:
    """Built once per container, at the first e-mail (templates are compiled on first use and kept). Jinja2 is
    imported here, not at init: the accounts function imports the mailer, and most of its requests send none."""
    from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

    env = Environment(
        loader=PackageLoader("coursepay.notifications", "templates"),
        autoescape=select_autoescape(enabled_extensions=("html",), default_for_string=False, default=False),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["money"] = format_amount
    return env


def render(name: str, subject: str, **context: Any) -> RenderedEmail:
    """The e-mail ``name`` with ``subject`` (also the HTML title) and the template's variables."""
    env = environment()
    values = {"subject": subject, **context}
    return RenderedEmail(subject=subject, html=env.get_template(f"{name}.html").render(values),
                         text=env.get_template(f"{name}.txt").render(values))
