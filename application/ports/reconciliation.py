"""Checking the books as a whole: an operator's audit, apart from the ledger's daily work."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol
from uuid import UUID


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


class LedgerReconciliation(Protocol):
    async def reconcile(self) -> ReconciliationReport:
        """Check the whole committed ledger in one consistent snapshot: entries sum to zero
        per currency, balances match entries, every balance_after chain is consistent and
        every transfer is one balanced pair."""
        ...
