from __future__ import annotations

from collections.abc import Collection
from dataclasses import replace
from datetime import datetime
from uuid import UUID

from adapters.in_memory.storage import InMemoryStorage, PendingChanges
from application.ports.accounts import AccountRepository
from domain.account import Account, AccountKind, AccountStatus
from domain.transfer import TransferStatus


class InMemoryAccountRepository(AccountRepository):
    """Hands out copies, so a unit of work's changes stay invisible until it commits."""

    def __init__(self, storage: InMemoryStorage, pending: PendingChanges) -> None:
        self._storage = storage
        self._pending = pending

    async def add(self, account: Account) -> None:
        self._pending.accounts[account.id] = replace(account, held=0)

    async def update(self, account: Account) -> None:
        stored = self._find(account.id)
        if stored is not None:
            self._pending.accounts[account.id] = replace(
                stored,
                status=account.status,
                name=account.name,
                metadata=dict(account.metadata),
                overdraft_limit=account.overdraft_limit,
            )

    async def add_if_absent(self, account: Account) -> None:
        if self._find(account.id) is None:
            await self.add(account)

    async def get(self, account_id: UUID, *, at: datetime) -> Account | None:
        account = self._find(account_id)
        return None if account is None else self._with_held(account, at)

    async def list_owned_by(
        self,
        owner_id: UUID,
        *,
        at: datetime,
        limit: int,
        after: tuple[datetime, UUID] | None = None,
    ) -> list[Account]:
        owned = sorted(self._owned(owner_id), key=lambda account: (account.created_at, account.id))
        if after is not None:
            owned = [account for account in owned if (account.created_at, account.id) > after]
        return [self._with_held(account, at) for account in owned[:limit]]

    async def owned_among(self, owner_id: UUID, account_ids: Collection[UUID]) -> set[UUID]:
        wanted = set(account_ids)
        return {account.id for account in self._owned(owner_id) if account.id in wanted}

    async def lock_owner_and_count_open(self, owner_id: UUID) -> int:
        # One event loop, and the fakes never suspend: nothing runs between this count and
        # the unit of work's commit.
        owned = self._owned(owner_id)
        return sum(1 for account in owned if account.status is not AccountStatus.CLOSED)

    def _owned(self, owner_id: UUID) -> list[Account]:
        merged = {**self._storage.accounts, **self._pending.accounts}
        return [
            account
            for account in merged.values()
            if account.kind is AccountKind.CUSTOMER and account.owner_id == owner_id
        ]

    async def get_many(self, account_ids: Collection[UUID], *, at: datetime) -> dict[UUID, Account]:
        found = {
            account_id: await self.get(account_id, at=at) for account_id in sorted(account_ids)
        }
        return {account_id: account for account_id, account in found.items() if account}

    async def lock(self, account_ids: Collection[UUID], *, at: datetime) -> dict[UUID, Account]:
        # One event loop, no await between reads and writes of a posting: nothing to lock.
        return await self.get_many(account_ids, at=at)

    def _find(self, account_id: UUID) -> Account | None:
        return self._pending.accounts.get(account_id) or self._storage.accounts.get(account_id)

    def _with_held(self, account: Account, at: datetime) -> Account:
        transfers = {**self._storage.transfers, **self._pending.transfers}
        held = sum(
            transfer.amount
            for transfer in transfers.values()
            if transfer.from_account_id == account.id
            and transfer.status_at(at) is TransferStatus.PENDING
        )
        return replace(account, held=held, metadata=dict(account.metadata))
