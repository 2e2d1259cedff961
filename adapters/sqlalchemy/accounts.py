from __future__ import annotations

from collections.abc import Collection
from typing import Any
from uuid import UUID

from sqlalchemy import insert, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from adapters.sqlalchemy.tables import accounts
from domain.account import Account, AccountKind


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


class SqlAlchemyAccountRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def add(self, account: Account) -> None:
        await self._session.execute(insert(accounts).values(_values(account)))

    async def add_if_absent(self, account: Account) -> None:
        statement = pg_insert(accounts).values(_values(account)).on_conflict_do_nothing()
        await self._session.execute(statement)

    async def get(self, account_id: UUID) -> Account | None:
        statement = select(accounts).where(accounts.c.id == account_id)
        row = (await self._session.execute(statement)).first()
        return None if row is None else account_from_row(row)

    async def list_owned_by(self, owner_id: UUID) -> list[Account]:
        statement = (
            select(accounts)
            .where(accounts.c.owner_id == owner_id, accounts.c.kind == AccountKind.CUSTOMER.value)
            .order_by(accounts.c.created_at, accounts.c.id)
        )
        return [account_from_row(row) for row in await self._session.execute(statement)]

    async def lock(self, account_ids: Collection[UUID]) -> dict[UUID, Account]:
        # One round trip; PostgreSQL locks the rows as they come out of the sort, in id order.
        statement = (
            select(accounts)
            .where(accounts.c.id.in_(account_ids))
            .order_by(accounts.c.id)
            .with_for_update()
        )
        rows = await self._session.execute(statement)
        return {row.id: account_from_row(row) for row in rows}
