from __future__ import annotations

from uuid import UUID

from application.events import TraceContext, account_event, untraced
from application.moment import Moment
from application.ports.clock import Clock
from application.ports.unit_of_work import UnitOfWorkFactory
from domain.account import Account
from domain.errors import AccountNotFound


class CloseAccount:
    """The owner closes an empty account for good: it refuses every movement afterwards and
    stays readable with its history. Checked under the account's lock, so no movement can
    slip in between the check and the close."""

    def __init__(
        self, uow_factory: UnitOfWorkFactory, clock: Clock, trace: TraceContext = untraced
    ) -> None:
        self._uow_factory = uow_factory
        self._clock = clock
        self._trace = trace

    async def __call__(self, owner_id: UUID, account_id: UUID) -> Account:
        moment = Moment(self._clock)
        async with self._uow_factory() as uow:
            account = (await moment.lock(uow, (account_id,))).get(account_id)
            if account is None or not account.is_owned_by(owner_id):
                raise AccountNotFound(f"Account {account_id} not found.")
            account.close()
            await uow.accounts.update(account)
            await uow.outbox.add(
                [account_event("closed", account, moment.now, traceparent=self._trace())]
            )
            await uow.commit()
        return account
