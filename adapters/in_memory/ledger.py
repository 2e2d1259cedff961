from __future__ import annotations

from dataclasses import replace
from itertools import chain
from uuid import UUID

from adapters.in_memory.storage import InMemoryStorage, PendingChanges
from application.ports.ledger import AccountTotals, LedgerRepository
from domain.errors import AccountNotFound
from domain.ledger import Posting
from domain.transfer import LedgerEntry, Transfer


class InMemoryLedgerRepository(LedgerRepository):
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

    def _all_entries(self) -> chain[LedgerEntry]:
        return chain(chain.from_iterable(self._storage.entries.values()), self._pending.entries)
