"""Approximate currency conversion for budget estimates.

Cost estimates come from Maps price levels in US dollars (or a price range in a local currency); a trip's budget is
in the currency the user chose. Both are compared in the budget's currency using this table of reference rates.
The rates are rounded reference values, good enough for "about how much will this day cost" and nothing more: a
trip says which table it used. Update the table (and its date) deliberately.
"""

from __future__ import annotations

from common.foundation.errors import InvalidRequest

RATES_AS_OF = "2026-11"

# US dollars per one unit of each currency (approximate).
USD_PER_UNIT: dict[str, float] = {
    "USD": 1.0,
    "EUR": 1.08,
    "GBP": 1.27,
    "JPY": 0.0066,
    "CHF": 1.12,
    "CAD": 0.72,
    "AUD": 0.65,
    "NZD": 0.59,
    "MXN": 0.054,
    "BRL": 0.18,
    "ARS": 0.001,
    "CLP": 0.0011,
    "COP": 0.00025,
    "PEN": 0.27,
    "TRY": 0.024,
    "THB": 0.029,
    "SGD": 0.75,
    "HKD": 0.128,
    "CNY": 0.14,
    "KRW": 0.00072,
    "TWD": 0.031,
    "INR": 0.0117,
    "IDR": 0.000062,
    "MYR": 0.22,
    "PHP": 0.017,
    "VND": 0.000039,
    "AED": 0.272,
    "SAR": 0.267,
    "ILS": 0.27,
    "EGP": 0.02,
    "MAD": 0.1,
    "ZAR": 0.055,
    "SEK": 0.095,
    "NOK": 0.092,
    "DKK": 0.145,
    "PLN": 0.25,
    "CZK": 0.043,
    "HUF": 0.0027,
    "ISK": 0.0072,
}


def supported(currency: str) -> bool:
    return currency.upper() in USD_PER_UNIT


def require_supported(currency: str, field: str = "budget.currency") -> str:
    """The currency code in upper case, or a 400 listing what is supported."""
    code = currency.upper()
    if code not in USD_PER_UNIT:
        raise InvalidRequest(
            "unsupported currency",
            details=[{"field": field, "message": f"supported: {', '.join(sorted(USD_PER_UNIT))}"}],
        )
    return code


def convert(amount: float, from_currency: str, to_currency: str) -> float:
    """``amount`` in ``from_currency`` expressed in ``to_currency`` (rounded to cents)."""
    source, target = from_currency.upper(), to_currency.upper()
    if source == target:
        return round(amount, 2)
    return round(amount * USD_PER_UNIT[source] / USD_PER_UNIT[target], 2)
