"""Money as Stripe writes it, and the emulator's fee rule (integers only).

ISO 4217 minor units come from :mod:`ledger.money` (the project's one table; the
ledger package is framework-free, so the emulator may use it). Where Stripe's API
amounts differ from ISO — the facts below, from Stripe's "Supported currencies" page —
the emulator states them itself, because it plays Stripe; the app states the same facts
in ``app.payments.stripe_currencies`` and a test fails if the two disagree:

* zero-decimal currencies are whole units (MGA too, though ISO gives it 2 decimals);
* ISK and UGX are whole units written with two decimals (``500`` = 5 ISK, ``…00`` only);
* three-decimal currencies (BHD, JOD, KWD, OMR, TND) charge in steps of 10;
* HUF and TWD pay out in whole units (multiples of 100);
* an amount has at most 8 digits (99,999,999), 9 for INR, 12 for IDR.

Fee rule (documented, deterministic, no floats), computed in the currency's *whole
unit* — the coarser of ISO's and Stripe's minor units, so a fee is always exact in
both (5 000 ISK pays 145 ISK, never 145.30):

    fee = round_half_up(amount × 2.9 %) + fixed

with ``fixed`` = 30 minor units for two-decimal currencies (USD, EUR, …), 300 for
three-decimal ones (KWD, BHD, …) and 0 for zero-decimal ones (JPY, ISK, …).
``round_half_up(a × 29 / 1000)`` is ``(a × 29 + 500) // 1000`` on non-negative integers.
Example: 10 000 USD cents → 290 + 30 = 320; 1 050 → 30.45 → 30 + 30 = 60.
"""

from __future__ import annotations

from ledger.money import CURRENCY_EXPONENTS

from .errors import StripeError

CHARGE_CURRENCIES = frozenset(
    [
        "usd",
        "aed",
        "afn",
        "all",
        "amd",
        "ang",
        "aoa",
        "ars",
        "aud",
        "awg",
        "azn",
        "bam",
        "bbd",
        "bdt",
        "bgn",
        "bif",
        "bmd",
        "bnd",
        "bob",
        "brl",
        "bsd",
        "bwp",
        "byn",
        "bzd",
        "cad",
        "cdf",
        "chf",
        "clp",
        "cny",
        "cop",
        "crc",
        "cve",
        "czk",
        "djf",
        "dkk",
        "dop",
        "dzd",
        "egp",
        "etb",
        "eur",
        "fjd",
        "fkp",
        "gbp",
        "gel",
        "gip",
        "gmd",
        "gnf",
        "gtq",
        "gyd",
        "hkd",
        "hnl",
        "htg",
        "huf",
        "idr",
        "ils",
        "inr",
        "isk",
        "jmd",
        "jpy",
        "kes",
        "kgs",
        "khr",
        "kmf",
        "krw",
        "kyd",
        "kzt",
        "lak",
        "lbp",
        "lkr",
        "lrd",
        "lsl",
        "mad",
        "mdl",
        "mga",
        "mkd",
        "mmk",
        "mnt",
        "mop",
        "mur",
        "mvr",
        "mwk",
        "mxn",
        "myr",
        "mzn",
        "nad",
        "ngn",
        "nio",
        "nok",
        "npr",
        "nzd",
        "pab",
        "pen",
        "pgk",
        "php",
        "pkr",
        "pln",
        "pyg",
        "qar",
        "ron",
        "rsd",
        "rub",
        "rwf",
        "sar",
        "sbd",
        "scr",
        "sek",
        "sgd",
        "shp",
        "sle",
        "sos",
        "srd",
        "std",
        "szl",
        "thb",
        "tjs",
        "top",
        "try",
        "ttd",
        "twd",
        "tzs",
        "uah",
        "ugx",
        "uyu",
        "uzs",
        "vnd",
        "vuv",
        "wst",
        "xaf",
        "xcd",
        "xof",
        "xpf",
        "yer",
        "zar",
        "zmw",
        "bhd",
        "jod",
        "kwd",
        "omr",
        "tnd",
    ]
)
ZERO_DECIMAL = frozenset(
    ["bif", "clp", "djf", "gnf", "jpy", "kmf", "krw", "mga", "pyg", "rwf", "vnd", "vuv", "xaf", "xof", "xpf"]
)
WHOLE_UNITS_WITH_TWO_DECIMALS = frozenset({"isk", "ugx"})
THREE_DECIMAL = frozenset(["bhd", "jod", "kwd", "omr", "tnd"])
WHOLE_UNIT_PAYOUTS = frozenset({"huf", "twd"}) | WHOLE_UNITS_WITH_TWO_DECIMALS
MAX_AMOUNT_DIGITS = {"idr": 12, "inr": 9}
DEFAULT_MAX_AMOUNT_DIGITS = 8

PERCENT_PER_MILLE = 29
FIXED_FEE = {0: 0, 2: 30, 3: 300}
DISPUTE_FEE = {0: 15, 2: 1500, 3: 15000}  # 15.00 in every currency's whole-unit scale


def currency(value: object, param: str = "currency") -> str:
    """A lower-case currency Stripe charges in, or Stripe's 400."""
    code = str(value or "").lower()
    if code not in CHARGE_CURRENCIES:
        raise StripeError(
            f"Invalid currency: {code or value!r}. Stripe currently supports these "
            f"currencies: {', '.join(sorted(CHARGE_CURRENCIES))}",
            param=param,
        )
    return code


def iso_exponent(code: str) -> int:
    """ISO 4217 decimals, from the ledger's table."""
    return CURRENCY_EXPONENTS[currency(code).upper()]


def api_exponent(code: str) -> int:
    """Decimals of Stripe's ``amount`` in this currency."""
    code = currency(code)
    return 0 if code in ZERO_DECIMAL else 3 if code in THREE_DECIMAL else 2


AMOUNT_KINDS = ("charge", "transfer", "payout")


def amount_step(code: str, kind: str = "charge") -> int:
    """Stripe ``amount`` values of this kind (charge, transfer, payout) are multiples of this."""
    code = currency(code)
    if code in WHOLE_UNITS_WITH_TWO_DECIMALS or (kind == "payout" and code in WHOLE_UNIT_PAYOUTS):
        return 100
    return 10 if kind == "charge" and code in THREE_DECIMAL else 1


def max_amount(code: str) -> int:
    """The largest ``amount`` Stripe takes in this currency (its own unit)."""
    return 10 ** MAX_AMOUNT_DIGITS.get(currency(code), DEFAULT_MAX_AMOUNT_DIGITS) - 1


def check_amount(amount: int, code: str, kind: str = "charge", *, param: str = "amount") -> int:
    """Stripe's refusals of an amount it cannot take (too large, or off its step)."""
    limit = max_amount(code)
    if amount > limit:
        raise StripeError(
            f"Amount must be no more than {limit} ({code.upper()}, in the smallest unit).",
            code="amount_too_large",
            param=param,
        )
    step = amount_step(code, kind)
    if amount % step == 0:
        return amount
    if step == 100:
        raise StripeError(
            f"Invalid amount. Currency {code.upper()} is effectively zero-decimal "
            f"{'for payouts ' if kind == 'payout' else ''}and amounts must be evenly "
            "divisible by 100. See https://stripe.com/docs/currencies#special-cases for "
            "more information.",
            code="invalid_charge_amount_no_decimal_compatible",
            param=param,
        )
    raise StripeError(
        f"Invalid amount. {code.upper()} charges must end in 0 (round to the nearest ten). "
        "See https://stripe.com/docs/currencies#three-decimal.",
        code="invalid_charge_amount",
        param=param,
    )


def _unit_scale(code: str) -> tuple[int, int]:
    """(whole-unit exponent, Stripe amount units per whole-unit minor unit)."""
    whole = min(iso_exponent(code), api_exponent(code))
    return whole, 10 ** (api_exponent(code) - whole)


def processing_fee(amount: int, code: str) -> int:
    """Stripe-like card fee for a charge of ``amount`` (Stripe's unit), in Stripe's unit."""
    if amount < 0:
        raise ValueError("amount must be non-negative")
    whole, scale = _unit_scale(code)
    percent = (amount * PERCENT_PER_MILLE + 500 * scale) // (1000 * scale)
    return (percent + FIXED_FEE[whole]) * scale


def dispute_fee(code: str) -> int:
    """15.00 in the currency, in Stripe's unit."""
    whole, scale = _unit_scale(code)
    return DISPUTE_FEE[whole] * scale
