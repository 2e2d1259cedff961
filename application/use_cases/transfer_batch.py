from __future__ import annotations

from collections.abc import Sequence
from uuid import UUID

from application.commands import BatchItem
from application.receipts import BatchReceipt
from application.teller import Teller
from application.transfer_requests import TransferRequest, check_transfer
from application.turns import map_in_turns
from domain.errors import DomainError, InvalidBatch
from domain.money import MAX_MINOR_UNITS

MAX_BATCH_SIZE = 1000


class TransferBatch:
    """Many transfers (and holds) in one unit of work: every account locked once, in id
    order; items applied in order, so a later item sees what an earlier one did.

    Not atomic: each item succeeds or is refused on its own. Atomic (TigerBeetle's linked
    chain): the first refusal refuses the batch, and nothing moves.
    """

    def __init__(self, teller: Teller, max_amount: int = MAX_MINOR_UNITS) -> None:
        self._teller = teller
        self._max_amount = max_amount

    async def __call__(
        self,
        user_id: UUID,
        requests: Sequence[TransferRequest],
        *,
        atomic: bool,
        idempotency_key: str | None = None,
    ) -> BatchReceipt:
        if not 1 <= len(requests) <= MAX_BATCH_SIZE:
            raise InvalidBatch(f"A batch holds 1 to {MAX_BATCH_SIZE} transfers.")
        items = await map_in_turns(self._checked, requests)
        return await self._teller.move_batch(
            tuple(items), user_id=user_id, atomic=atomic, idempotency_key=idempotency_key
        )

    def _checked(self, request: TransferRequest) -> BatchItem:
        try:
            return check_transfer(request, self._max_amount)
        except DomainError as refusal:  # answered in order, with the others
            return refusal
