"""Free text as the API accepts it: one validator shared by every request model that takes words from a user.

Refused: NUL and the other C0/C1 control characters (they break logs, e-mails and CSV exports; a single-line
field refuses line breaks too) and the bidirectional controls (U+202A-U+202E, U+2066-U+2069, U+200E/F, U+061C),
with which a name can display as something else than it is ("Trojan Source")."""

from __future__ import annotations

import unicodedata
from typing import Annotated

from pydantic import AfterValidator

BIDI_CONTROLS = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
LINE_BREAKS = frozenset("\n\r\t")


def _refuse_controls(value: str, *, allowed: frozenset[str]) -> str:
    for char in value:
        if char in BIDI_CONTROLS:
            raise ValueError(f"must not contain the bidirectional control U+{ord(char):04X}")
        if unicodedata.category(char) == "Cc" and char not in allowed:
            raise ValueError(f"must not contain the control character U+{ord(char):04X}")
    return value


def single_line(value: str) -> str:
    return _refuse_controls(value, allowed=frozenset())


def multi_line(value: str) -> str:
    return _refuse_controls(value, allowed=LINE_BREAKS)


# Names, titles, outline items.
PlainText = Annotated[str, AfterValidator(single_line)]
# Descriptions, reasons, notes, feedback: line breaks and tabs are fine.
MultilineText = Annotated[str, AfterValidator(multi_line)]
