"""Checking the books as a whole: an operator's audit, apart from the ledger's daily work."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
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
class BrokenHashChain:
    """An account's first link where the hash chain does not hold (domain/chain.py): an
    entry changed, removed, added or moved, or an account row whose head is not its newest
    entry."""

    account_id: UUID
    sequence: int
    reason: str


@dataclass(frozen=True, slots=True)
class UnbalancedTransfer:
    """A posted transfer whose entries are not one debit and one credit of its posted amount,
    or a transfer that moved nothing (a hold not posted) with entries all the same."""

    transfer_id: UUID
    entry_count: int
    sum_of_entries: int


@dataclass(frozen=True, slots=True)
class TransferMismatch:
    """A transfer whose own figures disagree: more posted than its amount, more reversed
    than posted, or a reversed amount that is not the sum of its reversals."""

    transfer_id: UUID
    amount: int
    posted_amount: int | None
    reversed_amount: int
    sum_of_reversals: int


@dataclass(frozen=True, slots=True)
class OverdrawnAccount:
    """A customer account whose open holds exceed its balance and overdraft limit
    (available below zero). A debt alone is not listed: the database's CHECK bounds it."""

    account_id: UUID
    balance: int
    held: int


@dataclass(frozen=True, slots=True)
class ReconciliationReport:
    """Differences found in the books; empty lists and zero totals mean the books balance."""

    totals_by_currency: dict[str, int] = field(default_factory=dict)
    balance_mismatches: list[BalanceMismatch] = field(default_factory=list)
    broken_chains: list[BrokenChain] = field(default_factory=list)
    unbalanced_transfers: list[UnbalancedTransfer] = field(default_factory=list)
    mismatched_transfers: list[TransferMismatch] = field(default_factory=list)
    overdrawn_accounts: list[OverdrawnAccount] = field(default_factory=list)
    broken_hash_chains: list[BrokenHashChain] = field(default_factory=list)

    @property
    def is_clean(self) -> bool:
        return not (
            any(self.totals_by_currency.values())
            or self.balance_mismatches
            or self.broken_chains
            or self.unbalanced_transfers
            or self.mismatched_transfers
            or self.overdrawn_accounts
            or self.broken_hash_chains
        )

    @property
    def differences(self) -> list[object]:
        return [
            *self.balance_mismatches,
            *self.broken_chains,
            *self.unbalanced_transfers,
            *self.mismatched_transfers,
            *self.overdrawn_accounts,
            *self.broken_hash_chains,
        ]


class LedgerReconciliation(Protocol):
    async def reconcile(self, at: datetime) -> ReconciliationReport:
        """Check the whole committed ledger in one consistent snapshot: entries sum to zero
        per currency, balances match entries, every balance_after chain is consistent, every
        posted transfer is one balanced pair of its posted amount and nothing else has
        entries, reversals add up, and no customer's open holds (as of `at`) exceed its
        balance. (`held` itself is derived from the holds, so it cannot disagree with them.)
        And every account's hash chain holds from its first entry to its head: the first
        link that does not is reported, per account."""
        ...
