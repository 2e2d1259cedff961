from __future__ import annotations

from collections.abc import Mapping
from uuid import UUID

from application.funding import post_with_funding
from application.moment import Moment
from application.money_movement import MoneyMovement, TransferReceipt
from application.ports.unit_of_work import UnitOfWork
from application.transfer_requests import Labels
from domain.ledger import Posting
from domain.money import MAX_MINOR_UNITS
from domain.transfer import TransferKind, require_valid_amount


class Deposit:
    """Bring money into one of the caller's accounts.

    A deposit is a transfer from the bank's funding account of the currency, so the books
    always balance: every unit a customer holds is matched by the funding account's debit.
    """

    def __init__(self, movement: MoneyMovement, max_amount: int = MAX_MINOR_UNITS) -> None:
        self._movement = movement
        self._max_amount = max_amount

    async def __call__(
        self,
        user_id: UUID,
        account_id: UUID,
        amount: int,
        idempotency_key: str | None = None,
        *,
        reference: str | None = None,
        metadata: Mapping[str, str] | None = None,
    ) -> TransferReceipt:
        require_valid_amount(amount, self._max_amount)
        labels = Labels.checked(reference, metadata)

        async def post(uow: UnitOfWork, moment: Moment) -> Posting:
            return await post_with_funding(
                uow,
                user_id=user_id,
                account_id=account_id,
                amount=amount,
                kind=TransferKind.DEPOSIT,
                description=None,
                labels=labels,
                moment=moment,
            )

        return await self._movement.run(
            post,
            user_id=user_id,
            idempotency_key=idempotency_key,
            request=("deposit", account_id, amount, *labels.fingerprint()),
        )
