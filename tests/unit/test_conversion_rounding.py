"""Conversion amounts: ISO 4217 exponents, floor rounding, and the property that the bank
never loses on rounding."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from fractions import Fraction
from uuid import uuid4

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.account import Account
from domain.conversion import MAX_RATE_DIGITS, exact_target, require_rate, target_amount
from domain.currency import MINOR_UNITS
from domain.errors import AmountTooSmall, InvalidAmount, InvalidRate, SameCurrencyConversion
from domain.ledger import post_conversion
from domain.money import MAX_MINOR_UNITS

NOW = datetime(2026, 1, 1, tzinfo=UTC)


@pytest.mark.parametrize(
    ("amount", "rate", "source", "target", "expected"),
    [
        (12_345, "0.0061", "JPY", "EUR", 7_530),  # 75.3045 EUR
        (1, "0.0061", "JPY", "EUR", 0),  # 0.0061 EUR: less than a cent
        (2, "0.0061", "JPY", "EUR", 1),  # 1.22 cents
        (164, "0.0061", "JPY", "EUR", 100),  # 1.0004 EUR
        (10_000, "0.3301", "EUR", "KWD", 33_010),
        (1, "0.3301", "EUR", "KWD", 3),  # 0.003301 KWD
        (1, "163.9", "EUR", "JPY", 1),  # 1.639 JPY
        (100, "1", "KWD", "EUR", 10),  # 0.100 KWD -> 0.10 EUR
        (9, "1", "KWD", "EUR", 0),  # 0.009 KWD -> 0.009 EUR
    ],
)
def test_exponents_and_floor(
    amount: int, rate: str, source: str, target: str, expected: int
) -> None:
    assert target_amount(amount, rate, source, target) == expected


def test_rates_are_plain_positive_decimals_of_at_most_twelve_digits() -> None:
    for good in ("1", "0.5", "157.23", "0.000000000001", "999999999999", "1.50000000000000"):
        assert require_rate(good) == good
    for bad in ("0", "0.0", "-1", "+1", "1e2", " 1", "1 ", ".5", "5.", "01", "1.0000000000001"):
        with pytest.raises(InvalidRate):
            require_rate(bad)


_currencies = st.sampled_from(sorted(MINOR_UNITS))


@st.composite
def rates(draw: st.DrawFn) -> str:
    digits = draw(st.integers(min_value=1, max_value=10**MAX_RATE_DIGITS - 1))
    scale = draw(st.integers(min_value=0, max_value=14))
    return format(Decimal(digits).scaleb(-scale), "f")


@given(
    amount=st.integers(min_value=1, max_value=10**12),
    rate=rates(),
    source=_currencies,
    target=_currencies,
)
def test_the_bank_never_loses_on_rounding(amount: int, rate: str, source: str, target: str) -> None:
    """What the payee gets, valued in the source currency at the rate, is never more than
    what the payer paid, and short of it by less than one target minor unit."""
    require_rate(rate)
    paid = target_amount(amount, rate, source, target)
    exact = exact_target(amount, rate, source, target)
    assert paid <= exact < paid + 1
    value_of_paid = Fraction(paid) / 10 ** MINOR_UNITS[target]
    value_of_received = Fraction(amount) / 10 ** MINOR_UNITS[source] * Fraction(Decimal(rate))
    assert value_of_paid <= value_of_received


@given(amount=st.integers(min_value=1, max_value=10**9), rate=rates())
def test_both_legs_balance_each_currency_and_the_fx_accounts_hold_the_difference(
    amount: int, rate: str
) -> None:
    payer = Account.open(owner_id=uuid4(), currency="JPY", now=NOW)
    payer.balance = amount
    payee = Account.open(owner_id=uuid4(), currency="KWD", now=NOW)
    fx_jpy, fx_kwd = Account.fx(currency="JPY", now=NOW), Account.fx(currency="KWD", now=NOW)
    try:
        made = post_conversion(
            conversion_id=uuid4(),
            source=payer,
            destination=payee,
            source_fx=fx_jpy,
            target_fx=fx_kwd,
            amount=amount,
            rate=rate,
            description=None,
            now=NOW,
        )
    except (AmountTooSmall, InvalidAmount):  # below one fils, or past the books' range
        assert not 0 < target_amount(amount, rate, "JPY", "KWD") <= MAX_MINOR_UNITS
        assert (payer.balance, payee.balance, fx_jpy.balance, fx_kwd.balance) == (amount, 0, 0, 0)
        return
    assert payer.balance + fx_jpy.balance == amount  # nothing created in JPY
    assert payee.balance + fx_kwd.balance == 0  # nor in KWD
    assert made.conversion.target_amount == payee.balance > 0


def test_one_currency_is_no_conversion() -> None:
    payer = Account.open(owner_id=uuid4(), currency="EUR", now=NOW)
    payee = Account.open(owner_id=uuid4(), currency="EUR", now=NOW)
    fx = Account.fx(currency="EUR", now=NOW)
    with pytest.raises(SameCurrencyConversion):
        post_conversion(
            conversion_id=uuid4(),
            source=payer,
            destination=payee,
            source_fx=fx,
            target_fx=fx,
            amount=1,
            rate="1",
            description=None,
            now=NOW,
        )
