from __future__ import annotations

from uuid import UUID

from application.ports.clock import Clock
from application.ports.unit_of_work import UnitOfWorkFactory
from domain.account import Account


class ListAccounts:
    def __init__(self, uow_factory: UnitOfWorkFactory, clock: Clock) -> None:
        self._uow_factory = uow_factory
        self._clock = clock

    async def __call__(self, owner_id: UUID) -> list[Account]:
        async with self._uow_factory() as uow:
            return await uow.accounts.list_owned_by(owner_id, at=self._clock.now())
