from __future__ import annotations

from uuid import UUID

from application.receipts import TransferReceipt
from application.teller import Teller
from application.transfer_requests import TransferRequest, check_transfer
from domain.money import MAX_MINOR_UNITS


class TransferFunds:
    """Move money from one of the caller's accounts to any customer account, or place a
    hold on it (`pending`) to be posted or voided later."""

    def __init__(self, teller: Teller, max_amount: int = MAX_MINOR_UNITS) -> None:
        self._teller = teller
        self._max_amount = max_amount

    async def __call__(
        self, user_id: UUID, request: TransferRequest, idempotency_key: str | None = None
    ) -> TransferReceipt:
        command = check_transfer(request, self._max_amount)
        return await self._teller.move(command, user_id=user_id, idempotency_key=idempotency_key)
