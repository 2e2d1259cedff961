from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol
from uuid import UUID

from domain.ledger import Posting
from domain.transfer import LedgerEntry, Transfer


@dataclass(frozen=True, slots=True)
class AccountTotals:
    """Read in one statement with the balance, so the figures agree with each other."""

    balance: int
    total_in: int
    total_out: int
    count_in: int
    count_out: int


class LedgerRepository(Protocol):
    async def record(self, posting: Posting) -> None:
        """Write what the posting changes: the transfer (new, or its new state), the two
        entries and both new balances when money moves, and the transfer it amends."""
        ...

    async def record_many(self, postings: Sequence[Posting]) -> None:
        """Write postings decided one after the other in this unit of work, in bulk: the
        store sees the same result as recording them one by one, in order."""
        ...

    async def get_transfer(self, transfer_id: UUID) -> Transfer | None:
        """The transfer as stored (a hold past its expiry may still read `pending`: see
        `Transfer.as_of`)."""
        ...

    async def get_transfers(self, transfer_ids: Collection[UUID]) -> dict[UUID, Transfer]: ...

    async def lock_transfer(self, transfer_id: UUID) -> Transfer | None:
        """Load the transfer and hold it until the unit of work ends, so a hold is posted
        or voided once and a transfer's reversals are counted one at a time. Taken before
        any account lock, by everyone, so the two kinds of lock cannot wait on each other."""
        ...

    async def expire_overdue_holds(self, now: datetime) -> list[Transfer]:
        """Write `expired` on every pending hold whose expiry has passed by `now`, and return
        them. Time already decided it (`Transfer.status_at`); this writes it down. A hold
        being posted or voided meanwhile is left to that unit of work."""
        ...

    async def entries(
        self, account_id: UUID, *, before_sequence: int | None, limit: int
    ) -> list[LedgerEntry]:
        """The account's entries, newest first, below `before_sequence` when given."""
        ...

    async def totals(self, account_id: UUID) -> AccountTotals:
        """Money in and out of one account, computed by the store, not by loading entries."""
        ...
