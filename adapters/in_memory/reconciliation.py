"""The audit of the in-memory books: what was committed, checked the way the SQL one is."""

from __future__ import annotations

from collections import defaultdict
from itertools import chain
from uuid import UUID

from adapters.in_memory.storage import InMemoryStorage
from application.ports.reconciliation import (
    BalanceMismatch,
    BrokenChain,
    LedgerReconciliation,
    ReconciliationReport,
    UnbalancedTransfer,
)
from domain.transfer import LedgerEntry


class InMemoryLedgerReconciliation(LedgerReconciliation):
    def __init__(self, storage: InMemoryStorage) -> None:
        self._storage = storage

    async def reconcile(self) -> ReconciliationReport:
        accounts = self._storage.accounts
        transfers = self._storage.transfers
        by_account: dict[UUID, list[LedgerEntry]] = defaultdict(list)
        by_transfer: dict[UUID, list[LedgerEntry]] = defaultdict(list)
        totals: dict[str, int] = defaultdict(int)
        for entry in chain.from_iterable(self._storage.entries.values()):
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
