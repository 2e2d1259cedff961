from __future__ import annotations

from uuid import UUID

from application.commands import PostPendingTransfer
from application.receipts import TransferReceipt
from application.teller import Teller
from domain.transfer import require_valid_amount


class PostHold:
    """The payer completes a hold, in full or in part; the rest of it is released."""

    def __init__(self, teller: Teller) -> None:
        self._teller = teller

    async def __call__(
        self,
        user_id: UUID,
        transfer_id: UUID,
        amount: int | None = None,
        idempotency_key: str | None = None,
    ) -> TransferReceipt:
        command = PostPendingTransfer(
            transfer_id=transfer_id,
            amount=None if amount is None else require_valid_amount(amount),
        )
        return await self._teller.move(command, user_id=user_id, idempotency_key=idempotency_key)
