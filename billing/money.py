"""Money: Decimal amounts rounded half-up to their currency's minor unit (no float anywhere).

A currency is its ISO 4217 code. Most have two decimals; the exceptions below have none or three.
An invoice's lines are each rounded once, and its total is the sum of the rounded lines, so the
total always equals what a reader adds up from the lines (or from the CSV).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from decimal import ROUND_HALF_UP, Decimal

CURRENCY_RE = re.compile(r"^[A-Z]{3}$")
# ISO 4217 minor units that are not 2.
_MINOR_UNITS = {
    **dict.fromkeys(["BIF", "CLP", "DJF", "GNF", "ISK", "JPY", "KMF", "KRW", "PYG", "RWF", "UGX", "VND", "VUV"], 0),
    **dict.fromkeys(["XAF", "XOF", "XPF"], 0),
    **dict.fromkeys(["BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND"], 3),
}


def minor_units(currency: str) -> int:
    return _MINOR_UNITS.get(currency.upper(), 2)


def exponent(currency: str) -> Decimal:
    """The smallest amount of ``currency``: Decimal("0.01") for EUR, Decimal("1") for JPY."""
    return Decimal(1).scaleb(-minor_units(currency))


def round_money(amount: Decimal, currency: str) -> Decimal:
    """``amount`` rounded half-up (away from zero on a tie) to the currency's minor unit."""
    return amount.quantize(exponent(currency), rounding=ROUND_HALF_UP)


def total(amounts: Iterable[Decimal], currency: str) -> Decimal:
    """The sum of already rounded amounts, kept at the currency's exponent."""
    return sum(amounts, Decimal(0)).quantize(exponent(currency))
