from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from typing import Protocol
from uuid import UUID

from domain.account import Account


class AccountRepository(Protocol):
    """Every account read carries its `held` as of `at`: the sum of its pending holds that
    have not expired by then."""

    async def add(self, account: Account) -> None: ...

    async def update(self, account: Account) -> None:
        """Write what may change of an account besides money: status, name, metadata."""
        ...

    async def add_if_absent(self, account: Account) -> None:
        """Store the account unless one with its id exists (for the shared funding accounts)."""
        ...

    async def get(self, account_id: UUID, *, at: datetime) -> Account | None: ...

    async def get_many(self, account_ids: Collection[UUID], *, at: datetime) -> dict[UUID, Account]:
        """The accounts that exist among `account_ids`, read in one go, without locks."""
        ...

    async def list_owned_by(self, owner_id: UUID, *, at: datetime) -> list[Account]:
        """The owner's customer accounts, oldest first."""
        ...

    async def lock(self, account_ids: Collection[UUID], *, at: datetime) -> dict[UUID, Account]:
        """Load the accounts that exist and hold them until the unit of work ends.

        Locks are taken in id order whatever order the caller names them in, so two
        transfers in opposite directions queue instead of deadlocking.
        """
        ...
