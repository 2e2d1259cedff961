"""A movement of money between two accounts, its state, and the ledger entries it writes."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from enum import StrEnum
from uuid import UUID

from domain.chain import ChainedEntry
from domain.errors import InvalidAmount, InvalidDescription
from domain.metadata import Metadata
from domain.money import MAX_MINOR_UNITS

DESCRIPTION_MAX_LENGTH = 140
MAX_SEQUENCE = 2**63 - 1
"""Entry sequences are signed 64-bit integers, like every number the books store."""
MAX_HOLD_TIMEOUT = timedelta(days=7)
"""The longest a hold may reserve money before it expires (when it expires at all)."""


class TransferKind(StrEnum):
    TRANSFER = "transfer"
    DEPOSIT = "deposit"
    """From the bank's funding account of the currency: money entering the bank."""
    WITHDRAWAL = "withdrawal"
    """To the bank's funding account of the currency: money leaving the bank."""
    REVERSAL = "reversal"
    """From the payee of a posted transfer back to its payer (a refund)."""
    CONVERSION = "conversion"
    """A leg of a currency conversion, through the bank's FX account of its currency."""


class TransferStatus(StrEnum):
    POSTED = "posted"
    PENDING = "pending"
    """A hold: the amount is reserved on the source (its `held`), no entry is written yet."""
    VOIDED = "voided"
    EXPIRED = "expired"


@dataclass(frozen=True, slots=True)
class Transfer:
    """A movement of money, or a hold on one (TigerBeetle's two-phase transfer).

    What happened is never rewritten: a posted transfer is corrected by a reversal, a new
    transfer. Only a hold changes state (pending to posted, voided or expired, once), and a
    posted transfer counts what has been reversed of it.
    """

    id: UUID
    from_account_id: UUID
    to_account_id: UUID
    amount: int
    currency: str
    description: str | None
    created_at: datetime
    kind: TransferKind = TransferKind.TRANSFER
    status: TransferStatus = TransferStatus.POSTED
    expires_at: datetime | None = None
    """When a pending hold stops reserving money and can no longer be posted; None: never."""
    posted_amount: int | None = None
    """What was posted: the amount of a plain movement, at most the amount of a hold."""
    reversed_amount: int = 0
    reversal_of: UUID | None = None
    reference: str | None = None
    """The creator's own name for it, unique among the transfers that user created."""
    metadata: Metadata = field(default_factory=dict)
    created_by: UUID | None = None
    """The user whose request made it (None: the bank's own, or from before this was kept)."""
    conversion_id: UUID | None = None
    """For a conversion's legs: the conversion both belong to."""

    def status_at(self, now: datetime) -> TransferStatus:
        """A pending hold is expired from its `expires_at` on, whether or not a sweep wrote it."""
        if (
            self.status is TransferStatus.PENDING
            and self.expires_at is not None
            and self.expires_at <= now
        ):
            return TransferStatus.EXPIRED
        return self.status

    def as_of(self, now: datetime) -> Transfer:
        """This transfer as a reader sees it at `now` (lazily expired)."""
        status = self.status_at(now)
        return self if status is self.status else replace(self, status=status)

    @property
    def reversible_amount(self) -> int:
        return (self.posted_amount or 0) - self.reversed_amount


@dataclass(frozen=True, slots=True)
class LedgerEntry:
    """One side of a transfer: negative for the debit, positive for the credit.

    `sequence` numbers the entries of one account without gaps, so `balance_after` forms a
    chain that can be checked, and statements page on it stably. `entry_hash` chains it to
    the account's previous entry (domain/chain.py).
    """

    id: UUID
    account_id: UUID
    transfer_id: UUID
    sequence: int
    amount: int
    balance_after: int
    created_at: datetime
    entry_hash: bytes


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


def chained(entry: LedgerEntry, currency: str, kind: TransferKind) -> ChainedEntry:
    """What the hash chain covers of an entry: the entry, its account's currency and its
    transfer's kind."""
    return ChainedEntry(
        account_id=entry.account_id,
        sequence=entry.sequence,
        transfer_id=entry.transfer_id,
        amount=entry.amount,
        balance_after=entry.balance_after,
        currency=currency,
        created_at=entry.created_at,
        transfer_kind=kind.value,
        entry_hash=entry.entry_hash,
    )
