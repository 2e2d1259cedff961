from __future__ import annotations

from datetime import datetime
from uuid import UUID

from application.money_movement import MoneyMovement, TransferReceipt, record_transfer
from application.ports.unit_of_work import UnitOfWork
from application.use_cases.get_account import owned_account
from domain.account import Account
from domain.errors import AccountNotFound
from domain.money import Money
from domain.transfer import DEFAULT_MAX_TRANSFER_AMOUNT, Transfer, require_valid_amount


class Deposit:
    """Bring money into one of the caller's accounts.

    A deposit is a transfer from the bank's funding account of the currency, so the books
    always balance: every unit a customer holds is matched by the funding account's debit.
    """

    def __init__(
        self, movement: MoneyMovement, max_amount: int = DEFAULT_MAX_TRANSFER_AMOUNT
    ) -> None:
        self._movement = movement
        self._max_amount = max_amount

    async def __call__(
        self, user_id: UUID, account_id: UUID, amount: int, idempotency_key: str | None = None
    ) -> TransferReceipt:
        require_valid_amount(amount, self._max_amount)

        async def post(uow: UnitOfWork, now: datetime) -> Transfer:
            account = await owned_account(uow, account_id, user_id)
            funding = Account.funding(currency=account.currency, now=now)
            locked = await uow.accounts.lock((funding.id, account_id))
            if funding.id not in locked:
                await uow.accounts.add_if_absent(funding)
                locked = await uow.accounts.lock((funding.id, account_id))
            destination = locked.get(account_id)
            if destination is None:
                raise AccountNotFound(f"Account {account_id} not found.")
            return await record_transfer(
                uow,
                source=locked[funding.id],
                destination=destination,
                amount=Money(amount, account.currency),
                description=None,
                now=now,
            )

        return await self._movement.run(
            post,
            user_id=user_id,
            idempotency_key=idempotency_key,
            request=("deposit", account_id, amount),
        )
