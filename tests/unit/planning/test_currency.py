from __future__ import annotations

import pytest

from common.foundation import currency
from common.foundation.errors import InvalidRequest


def test_same_currency_is_unchanged() -> None:
    assert currency.convert(12.345, "EUR", "eur") == 12.35


def test_conversion_goes_through_usd_rates() -> None:
    eur_in_jpy = currency.convert(1.0, "EUR", "JPY")
    assert eur_in_jpy == round(currency.USD_PER_UNIT["EUR"] / currency.USD_PER_UNIT["JPY"], 2)
    assert currency.convert(eur_in_jpy, "JPY", "EUR") == pytest.approx(1.0, abs=0.01)


def test_unsupported_currency_is_a_clear_400() -> None:
    with pytest.raises(InvalidRequest) as raised:
        currency.require_supported("XYZ")
    assert raised.value.details[0]["field"] == "budget.currency"
    assert "EUR" in raised.value.details[0]["message"]
    assert currency.require_supported("gbp") == "GBP"
