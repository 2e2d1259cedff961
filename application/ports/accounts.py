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

    async def list_owned_by(
        self,
        owner_id: UUID,
        *,
        at: datetime,
        limit: int,
        after: tuple[datetime, UUID] | None = None,
    ) -> list[Account]:
        """Up to `limit` of the owner's customer accounts, oldest first: ordered on
        (created_at, id), strictly after `after` when given (a keyset page)."""
        ...

    async def owned_among(self, owner_id: UUID, account_ids: Collection[UUID]) -> set[UUID]:
        """Which of `account_ids` are customer accounts of `owner_id`: one read, as large as
        the ids asked about, whatever the number of accounts the owner has."""
        ...

    async def lock_owner_and_count_open(self, owner_id: UUID) -> int:
        """Hold the owner's account openings until the unit of work ends (a second opening by
        the same owner waits here) and count the owner's accounts that are not closed, as
        committed once the hold is taken."""
        ...

    async def lock(self, account_ids: Collection[UUID], *, at: datetime) -> dict[UUID, Account]:
        """Load the accounts that exist and hold them until the unit of work ends.

        Locks are taken in id order whatever order the caller names them in, so two
        transfers in opposite directions queue instead of deadlocking.
        """
        ...
