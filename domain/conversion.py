"""Currency conversions at a rate the caller gives (hexbank has no market data): the amount
the payee receives, in the target currency's minor units, always rounded down, so the bank
never pays out more than the rate gives."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from fractions import Fraction
from uuid import UUID

from domain.currency import MINOR_UNITS
from domain.errors import InvalidRate
from domain.metadata import Metadata

MAX_RATE_DIGITS = 12
"""Significant digits a rate may have (the API's contract)."""
MAX_RATE_LENGTH = 40
"""Characters a rate may be written with: 12 significant digits and the zeros around them."""
_RATE = re.compile(r"(0|[1-9][0-9]*)(\.[0-9]+)?")


def require_rate(text: str) -> str:
    """A positive decimal written plainly (`1.0845`, `0.0061`, `157`): no sign, no exponent,
    at most `MAX_RATE_DIGITS` significant digits. Returned as given."""
    if not isinstance(text, str) or len(text) > MAX_RATE_LENGTH or _RATE.fullmatch(text) is None:
        raise InvalidRate(
            'A rate is a positive decimal string such as "1.0845" (no sign, no exponent).'
        )
    whole, _, fraction = text.partition(".")
    digits = (whole + fraction.rstrip("0")).lstrip("0")
    if not digits:
        raise InvalidRate("A rate must be greater than zero.")
    if len(digits) > MAX_RATE_DIGITS:
        raise InvalidRate(f"A rate has at most {MAX_RATE_DIGITS} significant digits.")
    return text


def exact_target(amount: int, rate: str, source_currency: str, target_currency: str) -> Fraction:
    """amount x rate x 10^(target exponent - source exponent), exactly: what the payee would
    get with no rounding, in the target's minor units (ISO 4217 exponents: JPY 0, EUR 2,
    KWD 3)."""
    shift = MINOR_UNITS[target_currency] - MINOR_UNITS[source_currency]
    return Fraction(amount) * Fraction(Decimal(rate)) * Fraction(10) ** shift


def target_amount(amount: int, rate: str, source_currency: str, target_currency: str) -> int:
    """Rounded down (floor): the rounding always favours the bank."""
    return math.floor(exact_target(amount, rate, source_currency, target_currency))


@dataclass(frozen=True, slots=True)
class Conversion:
    """Money moved from one currency to another: a debit leg from the payer to the bank's FX
    account of the source currency, and a credit leg from the bank's FX account of the
    target currency to the payee, written together."""

    id: UUID
    from_account_id: UUID
    to_account_id: UUID
    source_amount: int
    source_currency: str
    target_amount: int
    target_currency: str
    rate: str
    debit_transfer_id: UUID
    credit_transfer_id: UUID
    created_at: datetime
    created_by: UUID | None = None
    reference: str | None = None
    metadata: Metadata = field(default_factory=dict)
