"""The audit of the in-memory books: what was committed, checked the way the SQL one is."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from itertools import chain
from uuid import UUID

from adapters.in_memory.storage import InMemoryStorage
from application.ports.reconciliation import (
    BalanceMismatch,
    BrokenChain,
    BrokenHashChain,
    LedgerReconciliation,
    OverdrawnAccount,
    ReconciliationReport,
    TransferMismatch,
    UnbalancedTransfer,
)
from domain.account import Account, AccountKind
from domain.chain import ChainBreak, ChainVerifier
from domain.transfer import LedgerEntry, Transfer, TransferStatus, chained


class InMemoryLedgerReconciliation(LedgerReconciliation):
    def __init__(self, storage: InMemoryStorage) -> None:
        self._storage = storage

    async def reconcile(self, at: datetime) -> ReconciliationReport:
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
            chain_break = _first_chain_break(account, entries, transfers)
            if chain_break is not None:
                report.broken_hash_chains.append(
                    BrokenHashChain(account.id, chain_break.sequence, chain_break.reason)
                )
        held: dict[UUID, int] = defaultdict(int)
        reversed_sums: dict[UUID, int] = defaultdict(int)
        for transfer in transfers.values():
            pair = by_transfer[transfer.id]
            amounts = sorted(entry.amount for entry in pair)
            moved = transfer.posted_amount if transfer.status is TransferStatus.POSTED else None
            if amounts != ([] if moved is None else [-moved, moved]):
                report.unbalanced_transfers.append(
                    UnbalancedTransfer(transfer.id, len(pair), sum(amounts))
                )
            if transfer.status_at(at) is TransferStatus.PENDING:
                held[transfer.from_account_id] += transfer.amount
            if transfer.reversal_of is not None:
                reversed_sums[transfer.reversal_of] += transfer.amount
        for transfer in transfers.values():
            reversals = reversed_sums[transfer.id]
            if (
                (transfer.posted_amount or 0) > transfer.amount
                or transfer.reversed_amount > (transfer.posted_amount or 0)
                or transfer.reversed_amount != reversals
            ):
                report.mismatched_transfers.append(
                    TransferMismatch(
                        transfer.id,
                        transfer.amount,
                        transfer.posted_amount,
                        transfer.reversed_amount,
                        reversals,
                    )
                )
        for account in accounts.values():
            if (
                account.kind is AccountKind.CUSTOMER
                and held[account.id] > 0
                and account.balance + account.overdraft_limit < held[account.id]
            ):
                report.overdrawn_accounts.append(
                    OverdrawnAccount(account.id, account.balance, held[account.id])
                )
        return report


def _first_chain_break(
    account: Account, entries: list[LedgerEntry], transfers: dict[UUID, Transfer]
) -> ChainBreak | None:
    verifier = ChainVerifier()
    for entry in entries:
        found = verifier.check(chained(entry, account.currency, transfers[entry.transfer_id].kind))
        if found is not None:
            return found
    return verifier.check_head(account.head_hash, account.entry_count)
