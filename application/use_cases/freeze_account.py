from __future__ import annotations

from collections.abc import Callable
from uuid import UUID

from application.events import account_event
from application.ports.clock import Clock
from application.ports.unit_of_work import UnitOfWorkFactory
from domain.account import Account, AccountKind
from domain.errors import AccountNotFound


class FreezeAccount:
    """An operator's decision (fraud, a court order): a frozen account takes no debit and no
    credit until it is unfrozen; its holds may still be voided or expire."""

    def __init__(self, uow_factory: UnitOfWorkFactory, clock: Clock) -> None:
        self._uow_factory = uow_factory
        self._clock = clock

    async def __call__(self, account_id: UUID) -> Account:
        return await _change(self._uow_factory, self._clock, account_id, Account.freeze, "frozen")


class UnfreezeAccount:
    """The operator lifts a freeze: the account takes debits and credits again."""

    def __init__(self, uow_factory: UnitOfWorkFactory, clock: Clock) -> None:
        self._uow_factory = uow_factory
        self._clock = clock

    async def __call__(self, account_id: UUID) -> Account:
        return await _change(
            self._uow_factory, self._clock, account_id, Account.unfreeze, "unfrozen"
        )


async def _change(
    uow_factory: UnitOfWorkFactory,
    clock: Clock,
    account_id: UUID,
    change: Callable[[Account], None],
    event: str,
) -> Account:
    now = clock.now()
    async with uow_factory() as uow:
        account = (await uow.accounts.lock((account_id,), at=now)).get(account_id)
        if account is None or account.kind is not AccountKind.CUSTOMER:
            raise AccountNotFound(f"Account {account_id} not found.")
        change(account)
        await uow.accounts.update(account)
        await uow.outbox.add([account_event(event, account, now)])
        await uow.commit()
    return account
