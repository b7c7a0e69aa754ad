"""Money as integer minor units plus an ISO 4217 currency code.

Nothing here uses floats.  Amounts are plain ``int`` counts of the currency's minor
unit (cents for USD, yen for JPY, fils for KWD); ``Money`` pairs one with its code.
Parsing and formatting go through ``decimal.Decimal`` only at the edges, and both
reject values that do not fit the currency's exponent exactly.

Two allocation rules keep every split exact:

* ``allocate`` — integer largest-remainder split by shares, so the parts always sum
  to the whole (e.g. between several owners of one income);
* ``commission`` — a rate in basis points applied with half-even rounding on minor
  units; the other side takes the remainder, so no minor unit is created or lost.

Where the exponents come from: ISO 4217 itself, through the ``iso4217`` package (the
ISO maintenance agency's list shipped as data and versioned by its publication date),
read once into :data:`CURRENCY_EXPONENTS` — the one table of minor units in the
project. Babel's ``get_currency_precision`` was not chosen: it gives CLDR's display
digits, which differ from ISO 4217 for thirteen codes (AFN, ALL, IQD, IRR, KPW, LAK,
LBP, MGA, MMK, RSD, SOS, SYP, YER — e.g. CLDR shows IQD with 0 digits, ISO gives the
dinar 3), nine of which Stripe charges in; money must follow the standard, display
may round. Codes without minor units (gold, SDR, the test code XTS) are not
currencies here. Codes ISO has withdrawn but that books and Stripe still carry are
listed in :data:`WITHDRAWN_CODES_IN_USE` with their last ISO exponent, so an upgrade of
the ISO data never makes an existing ledger account unreadable. How a payment
provider writes amounts (Stripe sends ISK with two decimals, MGA with none) is that
provider's boundary's business, never this module's.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from types import MappingProxyType

from iso4217 import Currency as _Iso4217

# Withdrawn from ISO 4217 (list three) yet still in books and accepted by Stripe:
# the Netherlands Antillean guilder (replaced by XCG in 2025), the Bulgarian lev
# (euro since 2026) and the old São Tomé dobra (redenominated as STN in 2018).
WITHDRAWN_CODES_IN_USE: Mapping[str, int] = MappingProxyType({"ANG": 2, "BGN": 2, "STD": 2})

# ISO 4217 minor-unit exponents of every currency (upper-case code → decimals).
# Unknown codes are rejected rather than guessed.
CURRENCY_EXPONENTS: Mapping[str, int] = MappingProxyType(
    {
        **WITHDRAWN_CODES_IN_USE,
        **{entry.code: entry.exponent for entry in _Iso4217 if entry.exponent is not None},
    }
)


class MoneyError(ValueError):
    """An amount or currency that cannot be represented exactly."""


def check_currency(code: str) -> str:
    """Return ``code`` if it is a known ISO 4217 code (upper case), else raise."""
    if not isinstance(code, str) or code not in CURRENCY_EXPONENTS:
        raise MoneyError(f"unknown currency {code!r}: not an upper-case ISO 4217 code with minor units")
    return code


def exponent(currency: str) -> int:
    return CURRENCY_EXPONENTS[check_currency(currency)]


def check_minor(amount: object) -> int:
    """Accept only true integers (not bool, not float) as minor-unit amounts."""
    if isinstance(amount, bool) or not isinstance(amount, int):
        raise MoneyError(f"amount must be an integer count of minor units, got {amount!r}")
    return amount


@dataclass(frozen=True, order=True)
class Money:
    """An exact amount: ``minor`` units of ``currency``."""

    minor: int
    currency: str

    def __post_init__(self) -> None:
        check_minor(self.minor)
        check_currency(self.currency)

    @classmethod
    def parse(cls, text: str, currency: str) -> Money:
        """Parse a decimal string such as ``"12.34"`` exactly ("12.345" USD is an error)."""
        return cls(parse_minor(text, currency), currency)

    def __add__(self, other: Money) -> Money:
        self._same(other)
        return Money(self.minor + other.minor, self.currency)

    def __sub__(self, other: Money) -> Money:
        self._same(other)
        return Money(self.minor - other.minor, self.currency)

    def __neg__(self) -> Money:
        return Money(-self.minor, self.currency)

    def _same(self, other: Money) -> None:
        if not isinstance(other, Money) or other.currency != self.currency:
            raise MoneyError(f"cannot combine {self.currency} with {other!r}")

    def __str__(self) -> str:
        return f"{format_minor(self.minor, self.currency)} {self.currency}"


def parse_minor(text: str, currency: str) -> int:
    """Decimal text → minor units, refusing anything finer than the currency allows."""
    exp = exponent(currency)
    try:
        value = Decimal(str(text).strip())
    except InvalidOperation:
        raise MoneyError(f"not a decimal amount: {text!r}") from None
    if not value.is_finite():
        raise MoneyError(f"not a finite amount: {text!r}")
    scaled = value.scaleb(exp)
    if scaled != scaled.to_integral_value():
        raise MoneyError(f"{text!r} has more than {exp} decimal places for {currency}")
    return int(scaled)


def format_minor(minor: int, currency: str) -> str:
    """Minor units → plain decimal text with the currency's exponent, e.g. ``-12.30``."""
    exp = exponent(currency)
    check_minor(minor)
    if exp == 0:
        return str(minor)
    sign = "-" if minor < 0 else ""
    whole, frac = divmod(abs(minor), 10**exp)
    return f"{sign}{whole}.{frac:0{exp}d}"


def allocate(total: int, shares: Sequence[int]) -> list[int]:
    """Split ``total`` minor units in proportion to integer ``shares``.

    Largest-remainder (Hamilton) method: each part gets the floor of its exact
    quota; the minor units left over go one each to the largest fractional
    remainders, ties broken by position, so the result is deterministic and
    ``sum(parts) == total`` always.  Negative totals are split symmetrically.
    """
    check_minor(total)
    if not shares or any(check_minor(s) < 0 for s in shares) or sum(shares) <= 0:
        raise MoneyError("shares must be non-negative integers with a positive sum")
    if total < 0:
        return [-part for part in allocate(-total, shares)]
    whole = sum(shares)
    # quota i = total·s_i / whole = parts[i] + remainders[i] / whole: integers throughout
    quotas = [divmod(total * s, whole) for s in shares]
    parts = [part for part, _ in quotas]
    left = total - sum(parts)
    by_remainder = sorted(range(len(shares)), key=lambda i: (-quotas[i][1], i))
    for i in by_remainder[:left]:
        parts[i] += 1
    return parts


def commission(amount: int, rate_bps: int) -> int:
    """The platform's cut of ``amount`` at ``rate_bps`` basis points, half-even rounded."""
    check_minor(amount)
    check_minor(rate_bps)
    if not 0 <= rate_bps <= 10_000:
        raise MoneyError("commission rate must be between 0 and 10000 basis points")
    # amount·rate / 10000 = cut + rest / 10000 with 0 <= rest < 10000 (floor division,
    # whatever the sign); round to the nearer integer, a tie to the even one
    cut, rest = divmod(amount * rate_bps, 10_000)
    if 2 * rest > 10_000 or (2 * rest == 10_000 and cut % 2):
        cut += 1
    return cut
