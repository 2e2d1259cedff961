from __future__ import annotations

from dataclasses import dataclass, field
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


@dataclass(frozen=True, slots=True)
class BalanceMismatch:
    account_id: UUID
    balance: int
    sum_of_entries: int


@dataclass(frozen=True, slots=True)
class BrokenChain:
    """An entry whose balance_after is not the running sum of its account's entries."""

    entry_id: UUID
    account_id: UUID
    sequence: int
    balance_after: int
    running_sum: int


@dataclass(frozen=True, slots=True)
class UnbalancedTransfer:
    """A transfer whose entries are not exactly one debit and one credit summing to zero."""

    transfer_id: UUID
    entry_count: int
    sum_of_entries: int


@dataclass(frozen=True, slots=True)
class ReconciliationReport:
    """Differences found in the books; empty lists and zero totals mean the books balance."""

    totals_by_currency: dict[str, int] = field(default_factory=dict)
    balance_mismatches: list[BalanceMismatch] = field(default_factory=list)
    broken_chains: list[BrokenChain] = field(default_factory=list)
    unbalanced_transfers: list[UnbalancedTransfer] = field(default_factory=list)

    @property
    def is_clean(self) -> bool:
        return not (
            any(self.totals_by_currency.values())
            or self.balance_mismatches
            or self.broken_chains
            or self.unbalanced_transfers
        )


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

    async def reconcile(self) -> ReconciliationReport:
        """Check the whole ledger: entries sum to zero per currency, balances match entries,
        every balance_after chain is consistent and every transfer is one balanced pair."""
        ...
