from __future__ import annotations

from uuid import UUID

from application.events import TraceContext, account_event, untraced
from application.moment import Moment
from application.ports.clock import Clock
from application.ports.unit_of_work import UnitOfWorkFactory
from application.use_cases.freeze_account import StatusChange
from domain.account import AccountKind
from domain.errors import AccountNotFound


class SetOverdraftLimit:
    """An operator's decision, never a customer's: how far below zero an account's balance
    may go (0 removes the overdraft). A limit below the current debt is allowed; the balance
    stays and further debits are refused. The change is an `account.updated` event carrying
    the new limit; setting the limit it has already changes nothing and writes no event."""

    def __init__(
        self, uow_factory: UnitOfWorkFactory, clock: Clock, trace: TraceContext = untraced
    ) -> None:
        self._uow_factory = uow_factory
        self._clock = clock
        self._trace = trace

    async def __call__(self, account_id: UUID, limit: int) -> StatusChange:
        moment = Moment(self._clock)
        async with self._uow_factory() as uow:
            account = (await moment.lock(uow, (account_id,))).get(account_id)
            if account is None or account.kind is not AccountKind.CUSTOMER:
                raise AccountNotFound(f"Account {account_id} not found.")
            if not account.set_overdraft_limit(limit):
                return StatusChange(account, changed=False)
            await uow.accounts.update(account)
            await uow.outbox.add(
                [account_event("updated", account, moment.now, traceparent=self._trace())]
            )
            await uow.commit()
        return StatusChange(account, changed=True)
