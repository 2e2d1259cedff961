from __future__ import annotations

from collections.abc import Collection
from typing import Any
from uuid import UUID

from sqlalchemy import Uuid, bindparam, insert, select
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from adapters.sqlalchemy.tables import accounts
from application.ports.accounts import AccountRepository
from domain.account import Account, AccountKind

# Built once: executing a prebuilt statement skips construction and most cache-key work.
_ADD = insert(accounts)
_ADD_IF_ABSENT = pg_insert(accounts).on_conflict_do_nothing()
_GET = select(accounts).where(accounts.c.id == bindparam("account_id"))
_OWNED_BY = (
    select(accounts)
    .where(
        accounts.c.owner_id == bindparam("owner_id"),
        accounts.c.kind == AccountKind.CUSTOMER.value,
    )
    .order_by(accounts.c.created_at, accounts.c.id)
)
_MANY = select(accounts).where(accounts.c.id == bindparam("account_ids", type_=ARRAY(Uuid)).any_())
# One round trip; PostgreSQL locks the rows as they come out of the sort, that is in id
# order, so two transfers in opposite directions queue instead of deadlocking.
_LOCK = (
    select(accounts)
    .where(accounts.c.id == bindparam("account_ids", type_=ARRAY(Uuid)).any_())
    .order_by(accounts.c.id)
    .with_for_update()
)


def account_from_row(row: Any) -> Account:
    return Account(
        id=row.id,
        owner_id=row.owner_id,
        currency=row.currency,
        balance=row.balance,
        created_at=row.created_at,
        kind=AccountKind(row.kind),
        entry_count=row.entry_count,
    )


def _values(account: Account) -> dict[str, Any]:
    return {
        "id": account.id,
        "owner_id": account.owner_id,
        "kind": account.kind.value,
        "currency": account.currency,
        "balance": account.balance,
        "entry_count": account.entry_count,
        "created_at": account.created_at,
    }


class SqlAlchemyAccountRepository(AccountRepository):
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def add(self, account: Account) -> None:
        await self._session.execute(_ADD, _values(account))

    async def add_if_absent(self, account: Account) -> None:
        await self._session.execute(_ADD_IF_ABSENT, _values(account))

    async def get(self, account_id: UUID) -> Account | None:
        row = (await self._session.execute(_GET, {"account_id": account_id})).first()
        return None if row is None else account_from_row(row)

    async def get_many(self, account_ids: Collection[UUID]) -> dict[UUID, Account]:
        rows = await self._session.execute(_MANY, {"account_ids": list(account_ids)})
        return {row.id: account_from_row(row) for row in rows}

    async def list_owned_by(self, owner_id: UUID) -> list[Account]:
        rows = await self._session.execute(_OWNED_BY, {"owner_id": owner_id})
        return [account_from_row(row) for row in rows]

    async def lock(self, account_ids: Collection[UUID]) -> dict[UUID, Account]:
        rows = await self._session.execute(_LOCK, {"account_ids": list(account_ids)})
        return {row.id: account_from_row(row) for row in rows}
