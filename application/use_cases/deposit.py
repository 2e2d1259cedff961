from __future__ import annotations

from datetime import datetime
from uuid import UUID, uuid4

from application.money_movement import MoneyMovement, TransferReceipt
from application.ports.unit_of_work import UnitOfWork
from domain.account import Account, funding_account_id
from domain.errors import AccountNotFound
from domain.ledger import Posting, post_transfer
from domain.money import MAX_MINOR_UNITS, Money
from domain.transfer import require_valid_amount


class Deposit:
    """Bring money into one of the caller's accounts.

    A deposit is a transfer from the bank's funding account of the currency, so the books
    always balance: every unit a customer holds is matched by the funding account's debit.
    """

    def __init__(self, movement: MoneyMovement, max_amount: int = MAX_MINOR_UNITS) -> None:
        self._movement = movement
        self._max_amount = max_amount

    async def __call__(
        self, user_id: UUID, account_id: UUID, amount: int, idempotency_key: str | None = None
    ) -> TransferReceipt:
        require_valid_amount(amount, self._max_amount)

        async def post(uow: UnitOfWork, now: datetime) -> Posting:
            # An account's currency never changes, so an unlocked read may name the funding
            # account; ownership is checked on the row read under the lock, like a transfer.
            account = await uow.accounts.get(account_id)
            if account is None:
                raise AccountNotFound(f"Account {account_id} not found.")
            funding_id = funding_account_id(account.currency)
            locked = await uow.accounts.lock((funding_id, account_id))
            if funding_id not in locked:
                await uow.accounts.add_if_absent(
                    Account.funding(currency=account.currency, now=now)
                )
                locked = await uow.accounts.lock((funding_id, account_id))
            destination = locked.get(account_id)
            if destination is None or not destination.is_owned_by(user_id):
                raise AccountNotFound(f"Account {account_id} not found.")
            return post_transfer(
                transfer_id=uuid4(),
                source=locked[funding_id],
                destination=destination,
                amount=Money(amount, destination.currency),
                description=None,
                now=now,
            )

        return await self._movement.run(
            post,
            user_id=user_id,
            idempotency_key=idempotency_key,
            request=("deposit", account_id, amount),
        )
