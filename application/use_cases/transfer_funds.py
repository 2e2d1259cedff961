from __future__ import annotations

from datetime import datetime
from uuid import UUID

from application.money_movement import MoneyMovement, TransferReceipt
from application.ports.unit_of_work import UnitOfWork
from application.transfer_requests import (
    TransferRequest,
    check_transfer,
    decide_transfer,
    refuse_taken_reference,
)
from domain.ledger import Posting
from domain.money import MAX_MINOR_UNITS


class TransferFunds:
    """Move money from one of the caller's accounts to any customer account, or place a
    hold on it (`pending`) to be posted or voided later."""

    def __init__(self, movement: MoneyMovement, max_amount: int = MAX_MINOR_UNITS) -> None:
        self._movement = movement
        self._max_amount = max_amount

    async def __call__(
        self, user_id: UUID, request: TransferRequest, idempotency_key: str | None = None
    ) -> TransferReceipt:
        checked = check_transfer(request, self._max_amount)

        async def post(uow: UnitOfWork, now: datetime) -> Posting:
            await refuse_taken_reference(uow, user_id, checked.reference)
            locked = await uow.accounts.lock((checked.source_id, checked.destination_id), at=now)
            return decide_transfer(checked, locked, user_id, now)

        return await self._movement.run(
            post,
            user_id=user_id,
            idempotency_key=idempotency_key,
            request=("transfer", *checked.fingerprint()),
        )
