from __future__ import annotations

from collections.abc import Collection
from typing import Any
from uuid import UUID

from sqlalchemy import Integer, Uuid, bindparam, delete, insert, select, update
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncConnection

from adapters.sqlalchemy.locked_monitors import LockedMonitors
from adapters.sqlalchemy.tables import accounts, balance_monitors
from application.ports.monitors import MonitorRepository
from domain.monitor import Monitor, MonitorField, MonitorOp

_ADD = insert(balance_monitors)
_order = (balance_monitors.c.created_at, balance_monitors.c.id)
_OF_ACCOUNT = (
    select(balance_monitors)
    .where(balance_monitors.c.account_id == bindparam("account_id", type_=Uuid))
    .order_by(*_order)
)
_OF_ACCOUNTS = (
    select(balance_monitors)
    .where(balance_monitors.c.account_id == bindparam("account_ids", type_=ARRAY(Uuid)).any_())
    .order_by(*_order)
)
_COUNT = (
    update(accounts)
    .where(accounts.c.id == bindparam("account_id", type_=Uuid))
    .values(monitor_count=accounts.c.monitor_count + bindparam("change", type_=Integer))
)
_REMOVE = delete(balance_monitors).where(
    balance_monitors.c.id == bindparam("monitor_id", type_=Uuid),
    balance_monitors.c.account_id == bindparam("account_id", type_=Uuid),
)


def _monitor(row: Any) -> Monitor:
    return Monitor(
        id=row.id,
        account_id=row.account_id,
        field=MonitorField(row.field),
        op=MonitorOp(row.op),
        value=row.value,
        description=row.description,
        created_at=row.created_at,
    )


class SqlAlchemyMonitorRepository(MonitorRepository):
    def __init__(
        self, connection: AsyncConnection, locked_monitors: LockedMonitors | None = None
    ) -> None:
        self._connection = connection
        self._locked_monitors = LockedMonitors() if locked_monitors is None else locked_monitors

    async def add(self, monitor: Monitor) -> None:
        await self._connection.execute(
            _ADD,
            {
                "id": monitor.id,
                "account_id": monitor.account_id,
                "field": monitor.field.value,
                "op": monitor.op.value,
                "value": monitor.value,
                "description": monitor.description,
                "created_at": monitor.created_at,
            },
        )
        await self._connection.execute(_COUNT, {"account_id": monitor.account_id, "change": 1})
        self._locked_monitors.changed(monitor.account_id)

    async def of_account(self, account_id: UUID) -> list[Monitor]:
        rows = await self._connection.execute(_OF_ACCOUNT, {"account_id": account_id})
        return [_monitor(row) for row in rows]

    async def of_accounts(self, account_ids: Collection[UUID]) -> dict[UUID, list[Monitor]]:
        locked = self._locked_monitors.of_accounts(account_ids)
        if locked is not None:  # read with the accounts' lock, in this unit of work
            return locked
        rows = await self._connection.execute(_OF_ACCOUNTS, {"account_ids": list(account_ids)})
        found: dict[UUID, list[Monitor]] = {}
        for row in rows:
            found.setdefault(row.account_id, []).append(_monitor(row))
        return found

    async def remove(self, account_id: UUID, monitor_id: UUID) -> bool:
        result = await self._connection.execute(
            _REMOVE, {"monitor_id": monitor_id, "account_id": account_id}
        )
        if not result.rowcount:
            return False
        await self._connection.execute(_COUNT, {"account_id": account_id, "change": -1})
        self._locked_monitors.changed(account_id)
        return True
