"""Money: exact parsing/formatting per currency exponent, allocation, commission."""

from __future__ import annotations

from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ledger.money import (
    Money,
    MoneyError,
    allocate,
    commission,
    format_minor,
    parse_minor,
)


@pytest.mark.parametrize(
    "text,currency,minor",
    [
        ("12.34", "USD", 1234),
        ("0.01", "USD", 1),
        ("-5", "EUR", -500),
        ("1500", "JPY", 1500),
        ("1.234", "KWD", 1234),
        ("100.000", "KWD", 100000),
        ("7.1", "GBP", 710),
    ],
)
def test_parse_minor_uses_the_currency_exponent(text, currency, minor):
    assert parse_minor(text, currency) == minor


@pytest.mark.parametrize(
    "text,currency",
    [
        ("12.345", "USD"),
        ("1.5", "JPY"),
        ("1.2345", "KWD"),
        ("abc", "USD"),
        ("NaN", "USD"),
        ("Infinity", "EUR"),
        ("1", "XYZ"),
        ("1", "usd"),
    ],
)
def test_parse_minor_rejects_what_the_currency_cannot_hold(text, currency):
    with pytest.raises(MoneyError):
        parse_minor(text, currency)


@pytest.mark.parametrize(
    "minor,currency,text",
    [(1234, "USD", "12.34"), (-5, "USD", "-0.05"), (1500, "JPY", "1500"), (1, "KWD", "0.001"), (0, "EUR", "0.00")],
)
def test_format_minor(minor, currency, text):
    assert format_minor(minor, currency) == text


def test_money_refuses_floats_bools_and_mixed_currencies():
    with pytest.raises(MoneyError):
        Money(12.5, "USD")  # type: ignore[arg-type]
    with pytest.raises(MoneyError):
        Money(True, "USD")  # type: ignore[arg-type]
    with pytest.raises(MoneyError):
        Money(1, "USD") + Money(1, "EUR")
    assert Money(150, "USD") - Money(50, "USD") == Money(100, "USD")
    assert str(Money(-1234, "USD")) == "-12.34 USD"


@pytest.mark.parametrize(
    "total,shares,parts",
    [
        (100, [1, 1, 1], [34, 33, 33]),
        (851, [1, 1, 1], [284, 284, 283]),
        (5, [50, 50], [3, 2]),
        (1, [6000, 4000], [1, 0]),
        (-100, [1, 1, 1], [-34, -33, -33]),
        (0, [3, 7], [0, 0]),
        (1000, [3333, 3333, 3334], [333, 333, 334]),
    ],
)
def test_allocate_largest_remainder_worked_examples(total, shares, parts):
    assert allocate(total, shares) == parts


@pytest.mark.parametrize("shares", [[], [0, 0], [-1, 2], [1.5, 1]])
def test_allocate_rejects_bad_shares(shares):
    with pytest.raises(MoneyError):
        allocate(100, shares)


@given(
    total=st.integers(min_value=-(10**15), max_value=10**15),
    shares=st.lists(st.integers(min_value=0, max_value=10**6), min_size=1, max_size=12).filter(lambda s: sum(s) > 0),
)
def test_allocation_always_sums_to_the_whole_and_stays_within_one_unit(total, shares):
    parts = allocate(total, shares)
    assert sum(parts) == total
    for part, share in zip(parts, shares, strict=True):
        exact = Fraction(total * share, sum(shares))
        assert abs(part - exact) < 1
        if share == 0:
            assert part == 0


@pytest.mark.parametrize(
    "amount,bps,cut",
    [
        (10000, 2000, 2000),
        (25, 1000, 2),
        (35, 1000, 4),
        (15, 1000, 2),
        (1001, 1500, 150),
        (1, 5000, 0),
        (3, 5000, 2),
        (999, 0, 0),
        (999, 10000, 999),
    ],
)
def test_commission_is_half_even_on_minor_units(amount, bps, cut):
    assert commission(amount, bps) == cut


def test_commission_rejects_out_of_range_rates():
    with pytest.raises(MoneyError):
        commission(100, 10001)
    with pytest.raises(MoneyError):
        commission(100, -1)


def _commission_by_decimal(amount: int, bps: int) -> int:
    """The textbook definition: exact decimal product, quantized half-even."""
    from decimal import ROUND_HALF_EVEN, Decimal

    return int((Decimal(amount) * Decimal(bps) / Decimal(10_000)).quantize(Decimal(1), rounding=ROUND_HALF_EVEN))


def _allocate_by_fractions(total: int, shares: list[int]) -> list[int]:
    """The textbook largest-remainder method on exact fractions (non-negative totals)."""
    quotas = [Fraction(total * s, sum(shares)) for s in shares]
    parts = [int(q) for q in quotas]
    for i in sorted(range(len(shares)), key=lambda i: (-(quotas[i] - parts[i]), i))[: total - sum(parts)]:
        parts[i] += 1
    return parts


@given(amount=st.integers(min_value=-(2**62) + 1, max_value=2**62 - 1), bps=st.integers(min_value=0, max_value=10_000))
def test_integer_commission_is_the_decimal_half_even_one(amount, bps):
    assert commission(amount, bps) == _commission_by_decimal(amount, bps)


@given(
    total=st.integers(min_value=0, max_value=10**15),
    shares=st.lists(st.integers(min_value=0, max_value=10**6), min_size=1, max_size=12).filter(lambda s: sum(s) > 0),
)
def test_integer_allocation_is_the_fraction_largest_remainder_one(total, shares):
    assert allocate(total, shares) == _allocate_by_fractions(total, shares)
    assert allocate(-total, shares) == [-p for p in _allocate_by_fractions(total, shares)]


# -- one currency table, from ISO 4217 ---------------------------------------------------------
def test_exponents_come_from_the_iso_4217_list():
    from iso4217 import Currency

    from ledger.money import CURRENCY_EXPONENTS, WITHDRAWN_CODES_IN_USE, exponent

    iso = {entry.code: entry.exponent for entry in Currency if entry.exponent is not None}
    assert {code: CURRENCY_EXPONENTS[code] for code in iso} == iso
    assert set(CURRENCY_EXPONENTS) == set(iso) | set(WITHDRAWN_CODES_IN_USE)
    assert not set(WITHDRAWN_CODES_IN_USE) & set(iso), "a withdrawn code is back in ISO 4217: drop it here"
    assert (exponent("JPY"), exponent("AUD"), exponent("KWD"), exponent("ISK"), exponent("CLF")) == (0, 2, 3, 0, 4)
    for not_money in ("XAU", "XDR", "XTS", "XXX"):  # codes without minor units are not currencies
        assert not_money not in CURRENCY_EXPONENTS


def test_no_other_module_keeps_a_table_of_exponents():
    import ast
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    owners = set()
    for folder in ("ledger", "app", "stripe_emulator"):
        for path in (root / folder).rglob("*.py"):
            for node in ast.parse(path.read_text()).body:
                targets = (
                    node.targets
                    if isinstance(node, ast.Assign)
                    else ([node.target] if isinstance(node, ast.AnnAssign) else [])
                )
                if any(isinstance(t, ast.Name) and "EXPONENT" in t.id for t in targets):
                    owners.add(path.relative_to(root).as_posix())
    assert owners == {"ledger/money.py"}


@pytest.mark.parametrize("code", ["XYZ", "usd", "", "US", "XAU"])
def test_unknown_codes_are_refused_with_a_clear_error(code):
    from ledger.money import check_currency, exponent

    with pytest.raises(MoneyError, match=r"unknown currency .*ISO 4217"):
        check_currency(code)
    with pytest.raises(MoneyError):
        exponent(code)
    with pytest.raises(MoneyError):
        Money(100, code)


def test_amounts_follow_iso_not_cldr_display_digits():
    # CLDR (Babel) shows the Iraqi dinar and the Malagasy ariary with no decimals; ISO 4217 has 3 and 2
    assert parse_minor("1.250", "IQD") == 1250
    assert format_minor(150, "MGA") == "1.50"
    assert parse_minor("5", "ISK") == 5 and format_minor(5, "ISK") == "5"
