from __future__ import annotations

import pytest

from domain.currency import MINOR_UNITS, require_currency
from domain.errors import InvalidAmount, InvalidCurrency
from domain.money import Money


@pytest.mark.parametrize("code", ["EUR", "USD", "JPY", "KWD", "CHF", "XOF"])
def test_active_iso_4217_codes_are_accepted(code: str) -> None:
    assert Money(100, code).currency == code


@pytest.mark.parametrize("code", ["ZZZ", "EURO", "12$", "eur", "", "XXX", "XTS", "HRK", "XAU"])
def test_unknown_withdrawn_and_non_currency_codes_are_refused(code: str) -> None:
    with pytest.raises(InvalidCurrency):
        require_currency(code)


@pytest.mark.parametrize("amount", [1.0, 0.5, True, "100", None])
def test_money_is_whole_minor_units_only(amount: object) -> None:
    with pytest.raises(InvalidAmount):
        Money(amount, "EUR")  # type: ignore[arg-type]


def test_minor_units_follow_the_standard() -> None:
    assert (MINOR_UNITS["EUR"], MINOR_UNITS["JPY"], MINOR_UNITS["KWD"]) == (2, 0, 3)


def test_negation_keeps_the_currency() -> None:
    assert -Money(250, "EUR") == Money(-250, "EUR")
