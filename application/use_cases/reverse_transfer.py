from __future__ import annotations

from collections.abc import Mapping
from uuid import UUID

from application.commands import MakeReversal, pairs
from application.receipts import TransferReceipt
from application.teller import Teller
from domain.metadata import require_metadata, require_reference
from domain.transfer import normalize_description, require_valid_amount


class ReverseTransfer:
    """The payee refunds all or part of a posted transfer, as a new transfer back."""

    def __init__(self, teller: Teller) -> None:
        self._teller = teller

    async def __call__(
        self,
        user_id: UUID,
        transfer_id: UUID,
        amount: int | None = None,
        description: str | None = None,
        idempotency_key: str | None = None,
        *,
        reference: str | None = None,
        metadata: Mapping[str, str] | None = None,
    ) -> TransferReceipt:
        command = MakeReversal(
            transfer_id=transfer_id,
            amount=None if amount is None else require_valid_amount(amount),
            description=normalize_description(description),
            reference=require_reference(reference),
            metadata=pairs(require_metadata(metadata)),
        )
        return await self._teller.move(command, user_id=user_id, idempotency_key=idempotency_key)
