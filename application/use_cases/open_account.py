from __future__ import annotations

from collections.abc import Mapping
from uuid import UUID

from application.events import account_event
from application.ports.clock import Clock
from application.ports.unit_of_work import UnitOfWorkFactory
from domain.account import Account


class OpenAccount:
    def __init__(self, uow_factory: UnitOfWorkFactory, clock: Clock) -> None:
        self._uow_factory = uow_factory
        self._clock = clock

    async def __call__(
        self,
        owner_id: UUID,
        currency: str,
        *,
        name: str | None = None,
        metadata: Mapping[str, str] | None = None,
    ) -> Account:
        now = self._clock.now()
        account = Account.open(
            owner_id=owner_id,
            currency=currency,
            now=now,
            name=name,
            metadata=dict(metadata) if metadata is not None else None,
        )
        async with self._uow_factory() as uow:
            await uow.accounts.add(account)
            await uow.outbox.add([account_event("opened", account, now)])
            await uow.commit()
        return account
