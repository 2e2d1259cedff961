from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from application.ports.clock import Clock
from application.ports.ledger import AccountTotals
from application.ports.unit_of_work import UnitOfWorkFactory
from application.use_cases.get_account import owned_account
from domain.account import Account


@dataclass(frozen=True, slots=True)
class AccountSummary:
    account: Account
    totals: AccountTotals


class GetAccountSummary:
    """Balance and money in and out, from one aggregate read: not a loop over entries."""

    def __init__(self, uow_factory: UnitOfWorkFactory, clock: Clock) -> None:
        self._uow_factory = uow_factory
        self._clock = clock

    async def __call__(self, owner_id: UUID, account_id: UUID) -> AccountSummary:
        async with self._uow_factory() as uow:
            account = await owned_account(uow, account_id, owner_id, at=self._clock.now())
            return AccountSummary(account, await uow.ledger.totals(account_id))
