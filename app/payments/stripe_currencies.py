"""Where Stripe's amounts differ from ISO 4217 minor units: stated once for the product.

The ledger counts money in ISO 4217 minor units (:mod:`ledger.money`). Stripe's API
mostly does the same, with exceptions this module states (from Stripe's "Supported
currencies" page, API version 2024-04-10):

* **zero-decimal** currencies are sent in whole units — for all of them ISO agrees,
  except the Malagasy ariary (ISO: 2 decimals, Stripe: 0);
* **ISK and UGX** became zero-decimal (ISO: 0) but Stripe keeps them two-decimal for
  backwards compatibility: 5 ISK is ``amount=500``, and the last two digits must be 0;
* **three-decimal** currencies (BHD, JOD, KWD, OMR, TND) are sent in thousandths, but a
  charge's last digit must be 0 (5.124 KWD cannot be charged; 5.120 can);
* **HUF and TWD** are charged with two decimals, but paid out in whole units only;
* the **largest amount** is 8 digits of Stripe's unit (99,999,999), 9 for INR and 12
  for IDR.

:func:`to_stripe_amount` and :func:`from_stripe_amount` convert exactly or refuse with
:class:`StripeAmountError`; the gateway uses them on every amount it sends and reads
(:func:`to_ledger_units` for whole Stripe objects, e.g. a webhook's). The emulator
states the same facts in ``stripe_emulator.money``; a test holds the two together.
Pure functions, no ``stripe`` import: anything may import this module.
"""

from __future__ import annotations

from typing import Any

from ledger.money import CURRENCY_EXPONENTS

# Stripe's presentment currencies for card payments, plus the three-decimal ones
# Stripe charges for accounts in their regions.
CHARGE_CURRENCIES = frozenset(
    [
        "USD",
        "AED",
        "AFN",
        "ALL",
        "AMD",
        "ANG",
        "AOA",
        "ARS",
        "AUD",
        "AWG",
        "AZN",
        "BAM",
        "BBD",
        "BDT",
        "BGN",
        "BIF",
        "BMD",
        "BND",
        "BOB",
        "BRL",
        "BSD",
        "BWP",
        "BYN",
        "BZD",
        "CAD",
        "CDF",
        "CHF",
        "CLP",
        "CNY",
        "COP",
        "CRC",
        "CVE",
        "CZK",
        "DJF",
        "DKK",
        "DOP",
        "DZD",
        "EGP",
        "ETB",
        "EUR",
        "FJD",
        "FKP",
        "GBP",
        "GEL",
        "GIP",
        "GMD",
        "GNF",
        "GTQ",
        "GYD",
        "HKD",
        "HNL",
        "HTG",
        "HUF",
        "IDR",
        "ILS",
        "INR",
        "ISK",
        "JMD",
        "JPY",
        "KES",
        "KGS",
        "KHR",
        "KMF",
        "KRW",
        "KYD",
        "KZT",
        "LAK",
        "LBP",
        "LKR",
        "LRD",
        "LSL",
        "MAD",
        "MDL",
        "MGA",
        "MKD",
        "MMK",
        "MNT",
        "MOP",
        "MUR",
        "MVR",
        "MWK",
        "MXN",
        "MYR",
        "MZN",
        "NAD",
        "NGN",
        "NIO",
        "NOK",
        "NPR",
        "NZD",
        "PAB",
        "PEN",
        "PGK",
        "PHP",
        "PKR",
        "PLN",
        "PYG",
        "QAR",
        "RON",
        "RSD",
        "RUB",
        "RWF",
        "SAR",
        "SBD",
        "SCR",
        "SEK",
        "SGD",
        "SHP",
        "SLE",
        "SOS",
        "SRD",
        "STD",
        "SZL",
        "THB",
        "TJS",
        "TOP",
        "TRY",
        "TTD",
        "TWD",
        "TZS",
        "UAH",
        "UGX",
        "UYU",
        "UZS",
        "VND",
        "VUV",
        "WST",
        "XAF",
        "XCD",
        "XOF",
        "XPF",
        "YER",
        "ZAR",
        "ZMW",
        "BHD",
        "JOD",
        "KWD",
        "OMR",
        "TND",
    ]
)
ZERO_DECIMAL = frozenset(
    ["BIF", "CLP", "DJF", "GNF", "JPY", "KMF", "KRW", "MGA", "PYG", "RWF", "VND", "VUV", "XAF", "XOF", "XPF"]
)
WHOLE_UNITS_WITH_TWO_DECIMALS = frozenset({"ISK", "UGX"})
THREE_DECIMAL = frozenset(["BHD", "JOD", "KWD", "OMR", "TND"])
WHOLE_UNIT_PAYOUTS = frozenset({"HUF", "TWD"}) | WHOLE_UNITS_WITH_TWO_DECIMALS
MAX_AMOUNT_DIGITS = {"IDR": 12, "INR": 9}
DEFAULT_MAX_AMOUNT_DIGITS = 8

# Integer amount fields of Stripe objects that carry a ``currency`` beside them.
MONEY_FIELDS = (
    "amount",
    "amount_capturable",
    "amount_captured",
    "amount_received",
    "amount_refunded",
    "amount_reversed",
    "amount_subtotal",
    "amount_total",
    "fee",
    "net",
    "unit_amount",
)


class StripeAmountError(ValueError):
    """An amount or currency Stripe cannot take as it is; ``code`` says which rule."""

    def __init__(self, message: str, *, code: str, param: str = "amount"):
        super().__init__(message)
        self.code = code
        self.param = param


def check_charge_currency(currency: str) -> str:
    """The upper-case ISO code if Stripe can charge in it, else :class:`StripeAmountError`."""
    code = currency.upper() if isinstance(currency, str) else ""
    if code not in CHARGE_CURRENCIES or code not in CURRENCY_EXPONENTS:
        raise StripeAmountError(
            f"{currency!r} is not a currency Stripe can charge in "
            "(an ISO 4217 code from Stripe's supported currencies)",
            code="currency_not_supported",
            param="currency",
        )
    return code


def api_exponent(currency: str) -> int:
    """The decimals of Stripe's ``amount`` in ``currency`` (not always ISO's)."""
    code = check_charge_currency(currency)
    if code in ZERO_DECIMAL:
        return 0
    if code in THREE_DECIMAL:
        return 3
    return 2


def amount_step(currency: str, kind: str = "charge") -> int:
    """Stripe ``amount`` values of this kind (charge, transfer, payout) are multiples of this."""
    code = check_charge_currency(currency)
    if code in WHOLE_UNITS_WITH_TWO_DECIMALS or (kind == "payout" and code in WHOLE_UNIT_PAYOUTS):
        return 100
    return 10 if kind == "charge" and code in THREE_DECIMAL else 1


def _shift(currency: str) -> int:
    """Decimal places between ledger minor units and Stripe's (positive: Stripe's are finer)."""
    return api_exponent(currency) - CURRENCY_EXPONENTS[check_charge_currency(currency)]


def to_stripe_amount(minor: int, currency: str) -> int:
    """Ledger minor units → Stripe ``amount`` (exact, or :class:`StripeAmountError`)."""
    if isinstance(minor, bool) or not isinstance(minor, int):
        raise TypeError("amounts are integers of minor units")
    shift = _shift(currency)
    if shift >= 0:
        return minor * 10**shift
    whole, rest = divmod(minor, 10**-shift)
    if rest:
        raise StripeAmountError(
            f"{currency.upper()} amounts go to Stripe in whole units; {minor} minor units is not one",
            code="invalid_charge_amount",
        )
    return whole


def from_stripe_amount(amount: int, currency: str) -> int:
    """Stripe ``amount`` → ledger minor units (exact, or :class:`StripeAmountError`)."""
    shift = _shift(currency)
    if shift <= 0:
        return int(amount) * 10**-shift
    whole, rest = divmod(int(amount), 10**shift)
    if rest:
        raise StripeAmountError(
            f"Stripe amount {amount} {currency.upper()} is a fraction of the currency's smallest unit",
            code="invalid_amount",
        )
    return whole


def max_charge_minor(currency: str) -> int:
    """The largest charge Stripe accepts in ``currency``, in ledger minor units."""
    code = check_charge_currency(currency)
    digits = MAX_AMOUNT_DIGITS.get(code, DEFAULT_MAX_AMOUNT_DIGITS)
    largest = 10**digits - 1
    step = amount_step(code)
    # Stripe's unit may be finer than the ledger's (ISK) or coarser (MGA): keep what both can say
    unit = max(step, 10 ** max(_shift(code), 0))
    return from_stripe_amount(largest - largest % unit, code)


def to_ledger_units(obj: Any) -> Any:
    """A copy of a Stripe object with every money field in ledger minor units.

    A field is converted where its dict carries a ``currency`` Stripe charges in; nested
    objects (a dispute's balance transactions, an expanded charge) follow their own.
    """
    if isinstance(obj, list):
        return [to_ledger_units(item) for item in obj]
    if not isinstance(obj, dict):
        return obj
    converted = {key: to_ledger_units(value) for key, value in obj.items()}
    currency = obj.get("currency")
    if isinstance(currency, str) and currency.upper() in CHARGE_CURRENCIES:
        for name in MONEY_FIELDS:
            value = converted.get(name)
            if isinstance(value, int) and not isinstance(value, bool):
                converted[name] = from_stripe_amount(value, currency)
    return converted
