from __future__ import annotations

from uuid import UUID

from application.moment import Moment
from application.money_movement import MoneyMovement, TransferReceipt
from application.ports.unit_of_work import UnitOfWork
from application.transfer_access import locked_transfer, require_payer
from domain.holds import post_hold
from domain.ledger import Posting
from domain.transfer import require_valid_amount


class PostHold:
    """The payer completes a hold, in full or in part; the rest of it is released."""

    def __init__(self, movement: MoneyMovement) -> None:
        self._movement = movement

    async def __call__(
        self,
        user_id: UUID,
        transfer_id: UUID,
        amount: int | None = None,
        idempotency_key: str | None = None,
    ) -> TransferReceipt:
        if amount is not None:
            require_valid_amount(amount)

        async def post(uow: UnitOfWork, moment: Moment) -> Posting:
            hold, source, destination = await locked_transfer(uow, transfer_id, moment)
            require_payer(hold, source, destination, user_id)
            return post_hold(
                hold,
                source=source,
                destination=destination,
                amount=amount,
                now=moment.now,
                asked_by=user_id,
            )

        return await self._movement.run(
            post,
            user_id=user_id,
            idempotency_key=idempotency_key,
            request=("post-hold", transfer_id, amount),
        )
