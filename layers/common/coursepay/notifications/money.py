"""Amounts in integer minor units, written as a person reads them: ``usd 1500`` -> ``$15.00``.

The number of minor-unit digits is the currency's ISO 4217 exponent: 2 unless the table below says otherwise
(zero-decimal currencies such as JPY, three-decimal ones such as KWD). Stripe counts amounts the same way for
the currencies coursepay sells in; its few "special cases" (ISK, HUF, TWD, UGX, MGA) are not among them.

A small table instead of Babel: Babel's CLDR data would add about 33 MB to the layer every function loads, and
~50 ms to the first e-mail of a container (import plus locale data, measured with ``python -X importtime``),
to format the dozen currencies coursepay uses in one language.
"""

from __future__ import annotations

from decimal import Decimal

# ISO 4217 currencies whose minor unit is not 1/100.
_EXPONENTS: dict[str, int] = {
    **dict.fromkeys(("BIF", "CLP", "DJF", "GNF", "ISK", "JPY", "KMF", "KRW", "PYG", "RWF", "UGX", "UYI", "VND",
                     "VUV", "XAF", "XOF", "XPF"), 0),
    **dict.fromkeys(("BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND"), 3),
    **dict.fromkeys(("CLF", "UYW"), 4),
}
DEFAULT_EXPONENT = 2

# English (CLDR "en") symbols that name one currency unambiguously; every other currency is written with its code.
_SYMBOLS: dict[str, str] = {
    "USD": "$", "EUR": "€", "GBP": "£", "JPY": "¥", "CAD": "CA$", "AUD": "A$", "NZD": "NZ$", "HKD": "HK$",
    "MXN": "MX$", "BRL": "R$", "CNY": "CN¥", "INR": "₹", "KRW": "₩", "ILS": "₪", "VND": "₫", "TWD": "NT$",
}
_NO_BREAK_SPACE = "\u00a0"  # between a code and the number, so that a line break never separates them


def minor_unit_exponent(currency: str) -> int:
    return _EXPONENTS.get(currency.upper(), DEFAULT_EXPONENT)


def format_amount(amount: int, currency: str) -> str:
    """``format_amount(1500, "usd") == "$15.00"``, ``(1500, "jpy") == "¥1,500"``, ``(1500, "kwd") ==
    "KWD 1.500"`` (a no-break space after a code)."""
    code = currency.upper()
    exponent = minor_unit_exponent(code)
    number = f"{Decimal(amount).scaleb(-exponent):,.{exponent}f}"
    symbol = _SYMBOLS.get(code)
    return f"{symbol}{number}" if symbol else f"{code}{_NO_BREAK_SPACE}{number}"
