from __future__ import annotations

from collections.abc import Collection
from typing import Protocol
from uuid import UUID

from domain.account import Account


class AccountRepository(Protocol):
    async def add(self, account: Account) -> None: ...

    async def add_if_absent(self, account: Account) -> None:
        """Store the account unless one with its id exists (for the shared funding accounts)."""
        ...

    async def get(self, account_id: UUID) -> Account | None: ...

    async def get_many(self, account_ids: Collection[UUID]) -> dict[UUID, Account]:
        """The accounts that exist among `account_ids`, read in one go, without locks."""
        ...

    async def list_owned_by(self, owner_id: UUID) -> list[Account]:
        """The owner's customer accounts, oldest first."""
        ...

    async def lock(self, account_ids: Collection[UUID]) -> dict[UUID, Account]:
        """Load the accounts that exist and hold them until the unit of work ends.

        Locks are taken in id order whatever order the caller names them in, so two
        transfers in opposite directions queue instead of deadlocking.
        """
        ...
