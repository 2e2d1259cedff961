from __future__ import annotations

from dataclasses import dataclass
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
        """Write the transfer, its two entries and both new balances."""
        ...

    async def get_transfer(self, transfer_id: UUID) -> Transfer | None: ...

    async def entries(
        self, account_id: UUID, *, before_sequence: int | None, limit: int
    ) -> list[LedgerEntry]:
        """The account's entries, newest first, below `before_sequence` when given."""
        ...

    async def totals(self, account_id: UUID) -> AccountTotals:
        """Money in and out of one account, computed by the store, not by loading entries."""
        ...
