from __future__ import annotations

from collections import defaultdict
from dataclasses import replace
from itertools import chain
from uuid import UUID

from adapters.in_memory.storage import InMemoryStorage, PendingChanges
from application.ports.ledger import (
    AccountTotals,
    BalanceMismatch,
    BrokenChain,
    ReconciliationReport,
    UnbalancedTransfer,
)
from domain.errors import AccountNotFound
from domain.ledger import Posting
from domain.transfer import LedgerEntry, Transfer


class InMemoryLedgerRepository:
    def __init__(self, storage: InMemoryStorage, pending: PendingChanges) -> None:
        self._storage = storage
        self._pending = pending

    async def record(self, posting: Posting) -> None:
        self._pending.transfers[posting.transfer.id] = posting.transfer
        self._pending.entries.extend((posting.debit, posting.credit))
        for account in (posting.source, posting.destination):
            self._pending.accounts[account.id] = replace(account)

    async def get_transfer(self, transfer_id: UUID) -> Transfer | None:
        return self._pending.transfers.get(transfer_id) or self._storage.transfers.get(transfer_id)

    async def entries(
        self, account_id: UUID, *, before_sequence: int | None, limit: int
    ) -> list[LedgerEntry]:
        newest_first = sorted(
            (
                entry
                for entry in self._all_entries()
                if entry.account_id == account_id
                and (before_sequence is None or entry.sequence < before_sequence)
            ),
            key=lambda entry: entry.sequence,
            reverse=True,
        )
        return newest_first[:limit]

    async def totals(self, account_id: UUID) -> AccountTotals:
        account = self._pending.accounts.get(account_id) or self._storage.accounts.get(account_id)
        if account is None:
            raise AccountNotFound(f"Account {account_id} not found.")
        amounts = [entry.amount for entry in self._all_entries() if entry.account_id == account_id]
        return AccountTotals(
            balance=account.balance,
            total_in=sum(amount for amount in amounts if amount > 0),
            total_out=-sum(amount for amount in amounts if amount < 0),
            count_in=sum(1 for amount in amounts if amount > 0),
            count_out=sum(1 for amount in amounts if amount < 0),
        )

    async def reconcile(self) -> ReconciliationReport:
        accounts = {**self._storage.accounts, **self._pending.accounts}
        transfers = {**self._storage.transfers, **self._pending.transfers}
        by_account: dict[UUID, list[LedgerEntry]] = defaultdict(list)
        by_transfer: dict[UUID, list[LedgerEntry]] = defaultdict(list)
        totals: dict[str, int] = defaultdict(int)
        for entry in self._all_entries():
            by_account[entry.account_id].append(entry)
            by_transfer[entry.transfer_id].append(entry)
            totals[accounts[entry.account_id].currency] += entry.amount

        report = ReconciliationReport(totals_by_currency=dict(totals))
        for account in accounts.values():
            entries = sorted(by_account[account.id], key=lambda entry: entry.sequence)
            running = 0
            for entry in entries:
                running += entry.amount
                if entry.balance_after != running:
                    report.broken_chains.append(
                        BrokenChain(
                            entry.id, account.id, entry.sequence, entry.balance_after, running
                        )
                    )
            if account.balance != running:
                report.balance_mismatches.append(
                    BalanceMismatch(account.id, account.balance, running)
                )
        for transfer in transfers.values():
            pair = by_transfer[transfer.id]
            amounts = sorted(entry.amount for entry in pair)
            if amounts != [-transfer.amount, transfer.amount]:
                report.unbalanced_transfers.append(
                    UnbalancedTransfer(transfer.id, len(pair), sum(amounts))
                )
        return report

    def _all_entries(self) -> chain[LedgerEntry]:
        return chain(chain.from_iterable(self._storage.entries.values()), self._pending.entries)
