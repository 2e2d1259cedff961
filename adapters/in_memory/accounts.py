from __future__ import annotations

from collections.abc import Collection
from dataclasses import replace
from uuid import UUID

from adapters.in_memory.storage import InMemoryStorage, PendingChanges
from application.ports.accounts import AccountRepository
from domain.account import Account, AccountKind


class InMemoryAccountRepository(AccountRepository):
    """Hands out copies, so a unit of work's changes stay invisible until it commits."""

    def __init__(self, storage: InMemoryStorage, pending: PendingChanges) -> None:
        self._storage = storage
        self._pending = pending

    async def add(self, account: Account) -> None:
        self._pending.accounts[account.id] = replace(account)

    async def add_if_absent(self, account: Account) -> None:
        if await self.get(account.id) is None:
            await self.add(account)

    async def get(self, account_id: UUID) -> Account | None:
        account = self._pending.accounts.get(account_id) or self._storage.accounts.get(account_id)
        return None if account is None else replace(account)

    async def list_owned_by(self, owner_id: UUID) -> list[Account]:
        merged = {**self._storage.accounts, **self._pending.accounts}
        owned = [
            replace(account)
            for account in merged.values()
            if account.kind is AccountKind.CUSTOMER and account.owner_id == owner_id
        ]
        return sorted(owned, key=lambda account: (account.created_at, account.id))

    async def get_many(self, account_ids: Collection[UUID]) -> dict[UUID, Account]:
        found = {account_id: await self.get(account_id) for account_id in sorted(account_ids)}
        return {account_id: account for account_id, account in found.items() if account}

    async def lock(self, account_ids: Collection[UUID]) -> dict[UUID, Account]:
        # One event loop, no await between reads and writes of a posting: nothing to lock.
        return await self.get_many(account_ids)
