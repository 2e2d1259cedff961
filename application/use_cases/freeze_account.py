from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from uuid import UUID

from application.events import TraceContext, account_event, untraced
from application.moment import Moment
from application.ports.clock import Clock
from application.ports.unit_of_work import UnitOfWorkFactory
from domain.account import Account, AccountKind
from domain.errors import AccountNotFound


@dataclass(frozen=True, slots=True)
class StatusChange:
    account: Account
    changed: bool
    """False when the account already had that status: no event was written."""


class FreezeAccount:
    """An operator's decision (fraud, a court order): a frozen account takes no debit and no
    credit until it is unfrozen; its holds may still be voided or expire. Freezing a frozen
    account changes nothing and writes no event."""

    def __init__(
        self, uow_factory: UnitOfWorkFactory, clock: Clock, trace: TraceContext = untraced
    ) -> None:
        self._uow_factory = uow_factory
        self._clock = clock
        self._trace = trace

    async def __call__(self, account_id: UUID) -> StatusChange:
        return await _change(
            self._uow_factory, self._clock, account_id, Account.freeze, "frozen", self._trace
        )


class UnfreezeAccount:
    """The operator lifts a freeze: the account takes debits and credits again. Unfreezing an
    active account changes nothing and writes no event."""

    def __init__(
        self, uow_factory: UnitOfWorkFactory, clock: Clock, trace: TraceContext = untraced
    ) -> None:
        self._uow_factory = uow_factory
        self._clock = clock
        self._trace = trace

    async def __call__(self, account_id: UUID) -> StatusChange:
        return await _change(
            self._uow_factory, self._clock, account_id, Account.unfreeze, "unfrozen", self._trace
        )


async def _change(
    uow_factory: UnitOfWorkFactory,
    clock: Clock,
    account_id: UUID,
    change: Callable[[Account], bool],
    event: str,
    trace: TraceContext,
) -> StatusChange:
    moment = Moment(clock)
    async with uow_factory() as uow:
        account = (await moment.lock(uow, (account_id,))).get(account_id)
        if account is None or account.kind is not AccountKind.CUSTOMER:
            raise AccountNotFound(f"Account {account_id} not found.")
        if not change(account):
            return StatusChange(account, changed=False)
        await uow.accounts.update(account)
        await uow.outbox.add([account_event(event, account, moment.now, traceparent=trace())])
        await uow.commit()
    return StatusChange(account, changed=True)
