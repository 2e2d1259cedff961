"""Money as integer minor units of one currency: no floats anywhere in the money path."""

from __future__ import annotations

from dataclasses import dataclass

from domain.currency import require_currency
from domain.errors import InvalidAmount

MAX_MINOR_UNITS = 2**63 - 1
"""The largest amount or balance the books can hold: a signed 64-bit integer, as in
TigerBeetle's and PostgreSQL's BIGINT. Anything a client sends is checked against it."""


@dataclass(frozen=True, slots=True)
class Money:
    """An amount of minor units (cents for EUR, yen for JPY) in one ISO 4217 currency."""

    amount: int
    currency: str

    def __post_init__(self) -> None:
        # `bool` is an `int` in Python; True euros are not money.
        if type(self.amount) is not int:
            raise InvalidAmount("An amount must be a whole number of minor units.")
        require_currency(self.currency)

    def __neg__(self) -> Money:
        return Money(-self.amount, self.currency)
