from __future__ import annotations

from datetime import datetime
from uuid import UUID

from application.ports.clock import Clock
from application.ports.unit_of_work import UnitOfWork, UnitOfWorkFactory
from domain.account import Account
from domain.errors import AccountNotFound


async def owned_account(
    uow: UnitOfWork, account_id: UUID, owner_id: UUID, *, at: datetime
) -> Account:
    """The account if `owner_id` owns it; a stranger learns nothing, not even that it exists."""
    account = await uow.accounts.get(account_id, at=at)
    if account is None or not account.is_owned_by(owner_id):
        raise AccountNotFound(f"Account {account_id} not found.")
    return account


class GetAccount:
    def __init__(self, uow_factory: UnitOfWorkFactory, clock: Clock) -> None:
        self._uow_factory = uow_factory
        self._clock = clock

    async def __call__(self, owner_id: UUID, account_id: UUID) -> Account:
        async with self._uow_factory() as uow:
            return await owned_account(uow, account_id, owner_id, at=self._clock.now())
