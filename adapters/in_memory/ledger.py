from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import replace
from datetime import datetime
from itertools import chain
from uuid import UUID

from adapters.in_memory.storage import InMemoryStorage, PendingChanges
from application.events import Event
from application.ports.ledger import (
    AccountTotals,
    BalanceAt,
    LedgerRepository,
    TransferQuery,
    Write,
)
from domain.account import AccountKind
from domain.chain import GENESIS_HASH
from domain.conversion import Conversion
from domain.errors import AccountNotFound
from domain.ledger import Converted, HoldPosted, Moved, Posting, Reversed
from domain.transfer import LedgerEntry, Transfer, TransferStatus


class InMemoryLedgerRepository(LedgerRepository):
    def __init__(self, storage: InMemoryStorage, pending: PendingChanges) -> None:
        self._storage = storage
        self._pending = pending

    async def record(self, posting: Posting, events: Sequence[Event] = ()) -> None:
        self._pending.events.extend(events)
        if isinstance(posting, Converted):
            await self.record(posting.debit_leg)
            await self.record(posting.credit_leg)
            self._pending.conversions[posting.conversion.id] = posting.conversion
            return
        self._pending.transfers[posting.transfer.id] = posting.transfer
        match posting:
            case Reversed(original=original):
                self._pending.transfers[original.id] = original
        match posting:
            case (
                Moved(debit=debit, credit=credit)
                | Reversed(debit=debit, credit=credit)
                | (HoldPosted(debit=debit, credit=credit))
            ):
                self._pending.entries.extend((debit, credit))
                for account, after in (
                    (posting.source, posting.source_after),
                    (posting.destination, posting.destination_after),
                ):
                    self._pending.accounts[account.id] = replace(
                        account,
                        balance=after.balance,
                        entry_count=after.sequence,
                        last_entry_at=after.last_entry_at,
                        head_hash=after.head_hash,
                        held=0,  # derived from the holds, as the store does
                    )

    async def record_many(self, postings: Sequence[Posting], events: Sequence[Event] = ()) -> None:
        for posting in postings:
            await self.record(posting)
        self._pending.events.extend(events)

    async def prepare_many(
        self, postings: Sequence[Posting], events: Sequence[Event] = ()
    ) -> Write:
        postings, events = list(postings), list(events)

        async def write() -> None:
            await self.record_many(postings, events)

        return write

    async def get_conversion(self, conversion_id: UUID) -> Conversion | None:
        return self._pending.conversions.get(conversion_id) or self._storage.conversions.get(
            conversion_id
        )

    async def get_transfer(self, transfer_id: UUID) -> Transfer | None:
        return self._pending.transfers.get(transfer_id) or self._storage.transfers.get(transfer_id)

    async def get_transfers(self, transfer_ids: Collection[UUID]) -> dict[UUID, Transfer]:
        found = {transfer_id: await self.get_transfer(transfer_id) for transfer_id in transfer_ids}
        return {transfer_id: transfer for transfer_id, transfer in found.items() if transfer}

    async def references_taken(self, user_id: UUID, references: Collection[str]) -> set[str]:
        wanted = set(references)
        return {
            transfer.reference
            for transfer in self._all_transfers().values()
            if transfer.created_by == user_id and transfer.reference in wanted
        }

    async def search_transfers(self, query: TransferQuery) -> list[Transfer]:
        accounts = set(query.account_ids)
        if query.owner_id is not None:
            merged = {**self._storage.accounts, **self._pending.accounts}
            accounts = {
                account.id
                for account in merged.values()
                if account.kind is AccountKind.CUSTOMER and account.owner_id == query.owner_id
            }
        found = [
            transfer
            for transfer in self._all_transfers().values()
            if (transfer.from_account_id in accounts or transfer.to_account_id in accounts)
            and _matches(transfer, query)
        ]
        found.sort(key=lambda transfer: (transfer.created_at, transfer.id), reverse=True)
        return found[: query.limit]

    async def balance_at(self, account_id: UUID, at: datetime) -> BalanceAt:
        before = [
            e for e in self._all_entries() if e.account_id == account_id and e.created_at <= at
        ]
        if not before:
            return BalanceAt(0, 0, GENESIS_HASH)
        last = max(before, key=lambda entry: entry.sequence)
        return BalanceAt(last.balance_after, last.sequence, last.entry_hash)

    async def lock_transfer(self, transfer_id: UUID) -> Transfer | None:
        return await self.get_transfer(transfer_id)

    async def overdue_holds(self, now: datetime, *, limit: int) -> list[Transfer]:
        transfers = {**self._storage.transfers, **self._pending.transfers}
        overdue = [
            transfer
            for transfer in transfers.values()
            if transfer.status is TransferStatus.PENDING
            and transfer.status_at(now) is TransferStatus.EXPIRED
        ]
        overdue.sort(key=lambda transfer: (transfer.expires_at, transfer.id))
        return overdue[:limit]

    async def entries(
        self,
        account_id: UUID,
        *,
        before_sequence: int | None,
        limit: int,
        since: datetime | None = None,
        until: datetime | None = None,
    ) -> list[LedgerEntry]:
        newest_first = sorted(
            (
                entry
                for entry in self._all_entries()
                if entry.account_id == account_id
                and (before_sequence is None or entry.sequence < before_sequence)
                and (since is None or entry.created_at >= since)
                and (until is None or entry.created_at < until)
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

    def _all_transfers(self) -> dict[UUID, Transfer]:
        return {**self._storage.transfers, **self._pending.transfers}

    def _all_entries(self) -> chain[LedgerEntry]:
        return chain(chain.from_iterable(self._storage.entries.values()), self._pending.entries)


def _matches(transfer: Transfer, query: TransferQuery) -> bool:
    if query.older_than is not None and (transfer.created_at, transfer.id) >= query.older_than:
        return False
    return (
        (query.kind is None or transfer.kind is query.kind)
        and (query.status is None or transfer.status_at(query.at) is query.status)
        and (query.reference is None or transfer.reference == query.reference)
        and (query.conversion_id is None or transfer.conversion_id == query.conversion_id)
        and all(transfer.metadata.get(key) == value for key, value in query.metadata.items())
        and (query.created_after is None or transfer.created_at > query.created_after)
        and (query.created_before is None or transfer.created_at < query.created_before)
    )
