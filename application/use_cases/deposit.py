from __future__ import annotations

from collections.abc import Mapping
from uuid import UUID

from application.commands import MakeDeposit, pairs
from application.receipts import TransferReceipt
from application.teller import Teller
from domain.metadata import require_metadata, require_reference
from domain.money import MAX_MINOR_UNITS
from domain.transfer import require_valid_amount


class Deposit:
    """Bring money into one of the caller's accounts.

    A deposit is a transfer from the bank's funding account of the currency, so the books
    always balance: every unit a customer holds is matched by the funding account's debit.
    """

    def __init__(self, teller: Teller, max_amount: int = MAX_MINOR_UNITS) -> None:
        self._teller = teller
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
        command = MakeDeposit(
            account_id=account_id,
            amount=require_valid_amount(amount, self._max_amount),
            reference=require_reference(reference),
            metadata=pairs(require_metadata(metadata)),
        )
        return await self._teller.move(command, user_id=user_id, idempotency_key=idempotency_key)
