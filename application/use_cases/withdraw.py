from __future__ import annotations

from collections.abc import Mapping
from uuid import UUID

from application.commands import MakeWithdrawal, pairs
from application.receipts import TransferReceipt
from application.teller import Teller
from domain.metadata import require_metadata, require_reference
from domain.money import MAX_MINOR_UNITS
from domain.transfer import normalize_description, require_valid_amount


class Withdraw:
    """Take money out of one of the caller's accounts: it goes back to the funding account
    of the currency, the way a deposit came from it, and leaves the bank."""

    def __init__(self, teller: Teller, max_amount: int = MAX_MINOR_UNITS) -> None:
        self._teller = teller
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
        expected_sequence: int | None = None,
    ) -> TransferReceipt:
        """`expected_sequence` (`If-Match`): withdraw only if the account is still at it."""
        command = MakeWithdrawal(
            account_id=account_id,
            amount=require_valid_amount(amount, self._max_amount),
            description=normalize_description(description),
            reference=require_reference(reference),
            metadata=pairs(require_metadata(metadata)),
            expected_sequence=expected_sequence,
        )
        return await self._teller.move(command, user_id=user_id, idempotency_key=idempotency_key)
