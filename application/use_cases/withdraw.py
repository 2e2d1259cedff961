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
from domain.transfer import TransferKind, normalize_description, require_valid_amount


class Withdraw:
    """Take money out of one of the caller's accounts: it goes back to the funding account
    of the currency, the way a deposit came from it, and leaves the bank."""

    def __init__(self, movement: MoneyMovement, max_amount: int = MAX_MINOR_UNITS) -> None:
        self._movement = movement
        self._max_amount = max_amount

    async def __call__(
        self,
        user_id: UUID,
        account_id: UUID,
        amount: int,
        description: str | None = None,
        idempotency_key: str | None = None,
        *,
        reference: str | None = None,
        metadata: Mapping[str, str] | None = None,
    ) -> TransferReceipt:
        require_valid_amount(amount, self._max_amount)
        note = normalize_description(description)
        labels = Labels.checked(reference, metadata)

        async def post(uow: UnitOfWork, moment: Moment) -> Posting:
            return await post_with_funding(
                uow,
                user_id=user_id,
                account_id=account_id,
                amount=amount,
                kind=TransferKind.WITHDRAWAL,
                description=note,
                labels=labels,
                moment=moment,
            )

        return await self._movement.run(
            post,
            user_id=user_id,
            idempotency_key=idempotency_key,
            request=("withdrawal", account_id, amount, note, *labels.fingerprint()),
        )
