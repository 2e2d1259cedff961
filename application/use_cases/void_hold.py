from __future__ import annotations

from uuid import UUID

from application.moment import Moment
from application.money_movement import MoneyMovement, TransferReceipt
from application.ports.unit_of_work import UnitOfWork
from application.transfer_access import locked_transfer, require_payer
from domain.holds import void_hold
from domain.ledger import Posting


class VoidHold:
    """The payer cancels a hold: the whole amount is available again, nothing moves."""

    def __init__(self, movement: MoneyMovement) -> None:
        self._movement = movement

    async def __call__(
        self, user_id: UUID, transfer_id: UUID, idempotency_key: str | None = None
    ) -> TransferReceipt:
        async def post(uow: UnitOfWork, moment: Moment) -> Posting:
            hold, source, destination = await locked_transfer(uow, transfer_id, moment)
            require_payer(hold, source, destination, user_id)
            return void_hold(hold, source=source, destination=destination, now=moment.now)

        return await self._movement.run(
            post,
            user_id=user_id,
            idempotency_key=idempotency_key,
            request=("void-hold", transfer_id),
        )
