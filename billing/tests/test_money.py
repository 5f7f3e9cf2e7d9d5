"""Rounding half-up to the minor unit, and totals that are the sum of the rounded lines (hypothesis)."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from billing import money
from billing.invoices import Computed, Line

amounts = st.decimals(min_value=Decimal("-1e9"), max_value=Decimal("1e9"), places=9, allow_nan=False)
currencies = st.sampled_from(["EUR", "USD", "JPY", "KWD"])


def test_ties_round_away_from_zero() -> None:
    assert money.round_money(Decimal("0.005"), "EUR") == Decimal("0.01")
    assert money.round_money(Decimal("-0.005"), "EUR") == Decimal("-0.01")
    assert money.round_money(Decimal("2.5"), "JPY") == Decimal("3")
    assert money.round_money(Decimal("0.0005"), "KWD") == Decimal("0.001")


@given(amounts, currencies)
def test_rounding_is_within_half_a_minor_unit(amount: Decimal, currency: str) -> None:
    rounded = money.round_money(amount, currency)
    unit = money.exponent(currency)
    assert abs(rounded - amount) <= unit / 2
    assert rounded == rounded.quantize(unit)


@given(st.lists(st.tuples(amounts, amounts), max_size=40), currencies)
def test_the_total_is_the_sum_of_the_rounded_lines(pairs: list[tuple[Decimal, Decimal]], currency: str) -> None:
    lines = [Line("usage", "cpu_used", "d", "p", "x", q, p, money.round_money(q * p, currency)) for q, p in pairs]
    computed = Computed(currency, lines)
    assert computed.total == sum((line.amount for line in lines), Decimal(0))
    assert computed.total == computed.total.quantize(money.exponent(currency))
