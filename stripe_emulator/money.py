"""Currency exponents and the emulator's processing-fee rule (integers only).

Fee rule (documented, deterministic, no floats):

    fee = round_half_up(amount × 2.9 %) + fixed

with ``fixed`` = 30 minor units for two-decimal currencies (USD, EUR, …),
300 for three-decimal currencies (KWD, BHD, …) and 0 for zero-decimal ones
(JPY, KRW, …). ``round_half_up(amount × 29 / 1000)`` is computed as
``(amount × 29 + 500) // 1000`` on non-negative integers.
Example: 10 000 USD cents → 290 + 30 = 320; 1 050 → 30.45 → 30 + 30 = 60.
"""

from __future__ import annotations

ZERO_DECIMAL = frozenset(
    "bif clp djf gnf jpy kmf krw mga pyg rwf ugx vnd vuv xaf xof xpf".split()
)
THREE_DECIMAL = frozenset("bhd jod kwd omr tnd".split())

PERCENT_PER_MILLE = 29
DISPUTE_FEE_TWO_DECIMAL = 1500


def exponent(currency: str) -> int:
    """Number of decimals of a currency's minor unit (ISO 4217)."""
    code = currency.lower()
    if code in ZERO_DECIMAL:
        return 0
    if code in THREE_DECIMAL:
        return 3
    return 2


def fixed_fee(currency: str) -> int:
    return {0: 0, 2: 30, 3: 300}[exponent(currency)]


def processing_fee(amount: int, currency: str) -> int:
    """Stripe-like card fee for a charge of ``amount`` minor units."""
    if amount < 0:
        raise ValueError("amount must be non-negative")
    return (amount * PERCENT_PER_MILLE + 500) // 1000 + fixed_fee(currency)


def dispute_fee(currency: str) -> int:
    """15.00 in two-decimal currencies, scaled for the others."""
    return {0: 15, 2: DISPUTE_FEE_TWO_DECIMAL, 3: 15000}[exponent(currency)]
