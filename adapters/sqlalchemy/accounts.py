from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import (
    JSON,
    BigInteger,
    DateTime,
    Uuid,
    bindparam,
    cast,
    func,
    insert,
    or_,
    select,
    text,
    tuple_,
    update,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncConnection

from adapters.sqlalchemy.locked_monitors import LockedMonitors
from adapters.sqlalchemy.tables import accounts, transfers, users, written_in
from application.ports.accounts import AccountRepository
from domain.account import Account, AccountKind, AccountStatus
from domain.transfer import TransferStatus

_at = bindparam("at", type_=DateTime(timezone=True))
# What an account holds back for its open holds: summed from the holds themselves on every
# read (an index-only scan of the pending ones), so it cannot drift from them and an expired
# hold stops counting the instant it expires.
_held = (
    select(func.coalesce(func.sum(transfers.c.amount), 0))
    .where(
        transfers.c.from_account_id == accounts.c.id,
        transfers.c.status == written_in(TransferStatus.PENDING.value),
        or_(transfers.c.expires_at.is_(None), transfers.c.expires_at > _at),
    )
    .scalar_subquery()
)
_with_held = select(accounts, cast(_held, BigInteger).label("held"))

# Built once: executing a prebuilt statement skips construction and most cache-key work.
_ADD = insert(accounts)
_ADD_IF_ABSENT = pg_insert(accounts).on_conflict_do_nothing()
_UPDATE = (
    update(accounts)
    .where(accounts.c.id == bindparam("b_id"))
    .values(
        status=bindparam("b_status"),
        name=bindparam("b_name"),
        metadata=bindparam("b_metadata"),
        overdraft_limit=bindparam("b_overdraft_limit"),
        # What a lowered limit leaves of the debt beyond it (migration 0013).
        debt_above_limit=func.greatest(
            0, -accounts.c.balance - bindparam("b_overdraft_limit", type_=BigInteger)
        ),
    )
)
_GET = _with_held.where(accounts.c.id == bindparam("account_id"))
_owned = (
    accounts.c.owner_id == bindparam("owner_id", type_=Uuid),
    accounts.c.kind == written_in(AccountKind.CUSTOMER.value),
)
# Pages on the (owner_id, created_at, id) index (migration 0008): read in order, cut at the
# page size, whatever the number of accounts the owner has.
_OWNED_BY = (
    _with_held.where(*_owned)
    .order_by(accounts.c.created_at, accounts.c.id)
    .limit(bindparam("limit"))
)
_OWNED_BY_AFTER = _OWNED_BY.where(
    tuple_(accounts.c.created_at, accounts.c.id)
    > tuple_(
        bindparam("after_created_at", type_=DateTime(timezone=True)),
        bindparam("after_id", type_=Uuid),
    )
)
_ids = bindparam("account_ids", type_=ARRAY(Uuid))
_OWNED_AMONG = select(accounts.c.id).where(accounts.c.id == _ids.any_(), *_owned)
# The owner's row, held until the unit of work ends: openings by one owner wait here, and at
# READ COMMITTED each counts what the one before it committed. At SERIALIZABLE the count
# still reads the snapshot taken before the wait, so PostgreSQL aborts an opening that raced
# another (40001) and OpenAccount runs it again. NO KEY UPDATE: the foreign keys that point
# at the user (KEY SHARE) are not blocked by it.
_LOCK_OWNER = (
    select(users.c.id)
    .where(users.c.id == bindparam("owner_id", type_=Uuid))
    .with_for_update(key_share=True)
)
_COUNT_OPEN = (
    select(func.count())
    .select_from(accounts)
    .where(*_owned, accounts.c.status != written_in(AccountStatus.CLOSED.value))
)
_MANY = _with_held.where(accounts.c.id == _ids.any_())
# Locks in id order (two transfers in opposite directions queue instead of deadlocking), then
# reads with a fresh snapshot, in one round trip: see migrations/versions/0006_lock_accounts.py.
_LOCK = (
    text(
        "SELECT (locked.account).*, locked.held, locked.monitors"
        " FROM lock_accounts(:account_ids, :at) AS locked"
    )
    .bindparams(_ids, _at)
    .columns(*accounts.c, held=BigInteger, monitors=JSON)
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
        held=row.held,
        status=AccountStatus(row.status),
        name=row.name,
        metadata=dict(row.metadata),
        last_entry_at=row.last_entry_at,
        head_hash=bytes(row.head_hash),
        overdraft_limit=row.overdraft_limit,
        monitor_count=row.monitor_count,
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
        "status": account.status.value,
        "name": account.name,
        "metadata": account.metadata,
        "last_entry_at": account.last_entry_at,
        "head_hash": account.head_hash,
        "overdraft_limit": account.overdraft_limit,
    }


class SqlAlchemyAccountRepository(AccountRepository):
    def __init__(
        self, connection: AsyncConnection, locked_monitors: LockedMonitors | None = None
    ) -> None:
        self._connection = connection
        self._locked_monitors = LockedMonitors() if locked_monitors is None else locked_monitors

    async def add(self, account: Account) -> None:
        await self._connection.execute(_ADD, _values(account))

    async def add_if_absent(self, account: Account) -> None:
        await self._connection.execute(_ADD_IF_ABSENT, _values(account))

    async def update(self, account: Account) -> None:
        await self._connection.execute(
            _UPDATE,
            {
                "b_id": account.id,
                "b_status": account.status.value,
                "b_name": account.name,
                "b_metadata": account.metadata,
                "b_overdraft_limit": account.overdraft_limit,
            },
        )

    async def get(self, account_id: UUID, *, at: datetime) -> Account | None:
        row = (await self._connection.execute(_GET, {"account_id": account_id, "at": at})).first()
        return None if row is None else account_from_row(row)

    async def get_many(self, account_ids: Collection[UUID], *, at: datetime) -> dict[UUID, Account]:
        rows = await self._connection.execute(_MANY, {"account_ids": list(account_ids), "at": at})
        return {row.id: account_from_row(row) for row in rows}

    async def list_owned_by(
        self,
        owner_id: UUID,
        *,
        at: datetime,
        limit: int,
        after: tuple[datetime, UUID] | None = None,
    ) -> list[Account]:
        values: dict[str, Any] = {"owner_id": owner_id, "at": at, "limit": limit}
        if after is None:
            rows = await self._connection.execute(_OWNED_BY, values)
        else:
            values.update(after_created_at=after[0], after_id=after[1])
            rows = await self._connection.execute(_OWNED_BY_AFTER, values)
        return [account_from_row(row) for row in rows]

    async def owned_among(self, owner_id: UUID, account_ids: Collection[UUID]) -> set[UUID]:
        rows = await self._connection.execute(
            _OWNED_AMONG, {"owner_id": owner_id, "account_ids": list(account_ids)}
        )
        return {row.id for row in rows}

    async def lock_owner_and_count_open(self, owner_id: UUID) -> int:
        await self._connection.execute(_LOCK_OWNER, {"owner_id": owner_id})
        # A statement of its own: at READ COMMITTED it sees what an opening that held the
        # owner before this one committed.
        count = await self._connection.scalar(_COUNT_OPEN, {"owner_id": owner_id})
        return int(count or 0)

    async def lock(self, account_ids: Collection[UUID], *, at: datetime) -> dict[UUID, Account]:
        """Lock, then read, in one call. Placing a hold writes no account row, so a statement
        that waited for the lock would still sum the holds as its own (older) snapshot saw
        them: the read inside `lock_accounts` is a statement of its own, which at READ
        COMMITTED takes a new snapshot and sees every hold committed meanwhile. (At
        SERIALIZABLE the transaction keeps one snapshot, and PostgreSQL's serializable checks
        abort one side of such a race; it is retried.)"""
        rows = (
            await self._connection.execute(_LOCK, {"account_ids": list(account_ids), "at": at})
        ).all()
        self._locked_monitors.read_under_lock(rows)
        return {row.id: account_from_row(row) for row in rows}
