from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

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

    def __init__(self, uow_factory: UnitOfWorkFactory) -> None:
        self._uow_factory = uow_factory

    async def __call__(self, owner_id: UUID, account_id: UUID) -> AccountSummary:
        async with self._uow_factory() as uow:
            account = await owned_account(uow, account_id, owner_id)
            return AccountSummary(account, await uow.ledger.totals(account_id))
