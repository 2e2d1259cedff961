"""A movement of money between two accounts and the two ledger entries it writes."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from domain.errors import InvalidAmount, InvalidDescription
from domain.money import MAX_MINOR_UNITS

DESCRIPTION_MAX_LENGTH = 140
MAX_SEQUENCE = 2**63 - 1
"""Entry sequences are signed 64-bit integers, like every number the books store."""


@dataclass(frozen=True, slots=True)
class Transfer:
    """Immutable once made: a mistake is fixed by a new transfer, never an update."""

    id: UUID
    from_account_id: UUID
    to_account_id: UUID
    amount: int
    currency: str
    description: str | None
    created_at: datetime


@dataclass(frozen=True, slots=True)
class LedgerEntry:
    """One side of a transfer: negative for the debit, positive for the credit.

    `sequence` numbers the entries of one account without gaps, so `balance_after` forms a
    chain that can be checked, and statements page on it stably.
    """

    id: UUID
    account_id: UUID
    transfer_id: UUID
    sequence: int
    amount: int
    balance_after: int
    created_at: datetime


def require_valid_amount(amount: int, maximum: int = MAX_MINOR_UNITS) -> int:
    """A positive whole number of minor units, at most `maximum` (the operator's cap, which
    can only lower the books' own limit)."""
    if type(amount) is not int:
        raise InvalidAmount("An amount must be a whole number of minor units.")
    if amount <= 0:
        raise InvalidAmount("An amount must be greater than zero.")
    if amount > maximum:
        raise InvalidAmount(f"An amount may be at most {maximum} minor units.")
    return amount


def normalize_description(raw: str | None) -> str | None:
    if raw is None:
        return None
    text = unicodedata.normalize("NFC", raw).strip()
    if any(unicodedata.category(ch) in {"Cc", "Cs"} for ch in text):
        raise InvalidDescription(
            "A description cannot contain control characters or lone surrogates."
        )
    if len(text) > DESCRIPTION_MAX_LENGTH:
        raise InvalidDescription(
            f"A description is at most {DESCRIPTION_MAX_LENGTH} characters long."
        )
    return text or None
