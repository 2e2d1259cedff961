from __future__ import annotations

from uuid import UUID

from application.moment import Moment
from application.ports.clock import Clock
from application.ports.unit_of_work import UnitOfWorkFactory
from domain.errors import AccountNotFound, MonitorNotFound
from domain.monitor import Monitor, MonitorField, MonitorOp, require_room_for_monitor


class CreateMonitor:
    """Watch one of the caller's accounts: from now on every movement of it reports when the
    condition starts or stops holding. One created while its condition holds already reports
    nothing until the condition changes."""

    def __init__(self, uow_factory: UnitOfWorkFactory, clock: Clock, max_monitors: int) -> None:
        self._uow_factory = uow_factory
        self._clock = clock
        self._max_monitors = max_monitors

    async def __call__(
        self,
        owner_id: UUID,
        account_id: UUID,
        *,
        field: MonitorField,
        op: MonitorOp,
        value: int,
        description: str | None = None,
    ) -> Monitor:
        moment = Moment(self._clock)
        async with self._uow_factory() as uow:
            # The account's lock: creations on one account queue, each counting the last's.
            account = (await moment.lock(uow, (account_id,))).get(account_id)
            if account is None or not account.is_owned_by(owner_id):
                raise AccountNotFound(f"Account {account_id} not found.")
            require_room_for_monitor(
                len(await uow.monitors.of_account(account_id)), self._max_monitors
            )
            monitor = Monitor.create(
                account_id=account_id,
                field=field,
                op=op,
                value=value,
                description=description,
                now=moment.now,
            )
            await uow.monitors.add(monitor)
            await uow.commit()
        return monitor


class ListMonitors:
    def __init__(self, uow_factory: UnitOfWorkFactory, clock: Clock) -> None:
        self._uow_factory = uow_factory
        self._clock = clock

    async def __call__(self, owner_id: UUID, account_id: UUID) -> list[Monitor]:
        async with self._uow_factory() as uow:
            account = await uow.accounts.get(account_id, at=self._clock.now())
            if account is None or not account.is_owned_by(owner_id):
                raise AccountNotFound(f"Account {account_id} not found.")
            return await uow.monitors.of_account(account_id)


class DeleteMonitor:
    def __init__(self, uow_factory: UnitOfWorkFactory, clock: Clock) -> None:
        self._uow_factory = uow_factory
        self._clock = clock

    async def __call__(self, owner_id: UUID, account_id: UUID, monitor_id: UUID) -> None:
        async with self._uow_factory() as uow:
            account = await uow.accounts.get(account_id, at=self._clock.now())
            if account is None or not account.is_owned_by(owner_id):
                raise AccountNotFound(f"Account {account_id} not found.")
            if not await uow.monitors.remove(account_id, monitor_id):
                raise MonitorNotFound(f"Monitor {monitor_id} not found.")
            await uow.commit()
