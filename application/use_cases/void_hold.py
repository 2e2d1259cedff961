from __future__ import annotations

from uuid import UUID

from application.commands import VoidPendingTransfer
from application.receipts import TransferReceipt
from application.teller import Teller


class VoidHold:
    """The payer cancels a hold: the whole amount is available again, nothing moves."""

    def __init__(self, teller: Teller) -> None:
        self._teller = teller

    async def __call__(
        self, user_id: UUID, transfer_id: UUID, idempotency_key: str | None = None
    ) -> TransferReceipt:
        command = VoidPendingTransfer(transfer_id=transfer_id)
        return await self._teller.move(command, user_id=user_id, idempotency_key=idempotency_key)
