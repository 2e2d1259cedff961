from __future__ import annotations

from uuid import UUID

from application.events import TraceContext, account_event, monitor_event, untraced
from application.moment import Moment
from application.ports.clock import Clock
from application.ports.unit_of_work import UnitOfWorkFactory
from application.use_cases.freeze_account import StatusChange
from domain.account import AccountKind
from domain.errors import AccountNotFound
from domain.monitor import Figures, crossings


class SetOverdraftLimit:
    """An operator's decision, never a customer's: how far below zero an account's balance
    may go (0 removes the overdraft). A limit below the current debt is allowed; the balance
    stays and further debits are refused. The change is an `account.updated` event carrying
    the new limit; setting the limit it has already changes nothing and writes no event.

    The limit is part of `available`, so the account's monitors on it are evaluated here
    too, in this transaction, after the `account.updated` event: a lowered limit that makes
    `available < 0` true is a crossing like any movement's."""

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
            before = Figures(account.balance, account.available)
            if not account.set_overdraft_limit(limit):
                return StatusChange(account, changed=False)
            await uow.accounts.update(account)
            trace = self._trace()
            monitors = (await uow.monitors.of_accounts((account_id,))).get(account_id, [])
            crossed = crossings(
                monitors,
                before,
                Figures(account.balance, account.available),
                account.entry_count,
                account.head_hash,
            )
            await uow.outbox.add(
                [
                    account_event("updated", account, moment.now, traceparent=trace),
                    *(
                        monitor_event(c, account.owner_id, moment.now, traceparent=trace)
                        for c in crossed
                    ),
                ]
            )
            await uow.commit()
        return StatusChange(account, changed=True)
