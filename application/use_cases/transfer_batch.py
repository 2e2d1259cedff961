from __future__ import annotations

from collections.abc import Sequence
from uuid import UUID

from application.moment import Moment
from application.money_movement import (
    BatchDecision,
    BatchReceipt,
    BatchRefused,
    ItemResult,
    MoneyMovement,
)
from application.ports.unit_of_work import UnitOfWork
from application.transfer_requests import (
    CheckedTransfer,
    TransferRequest,
    check_transfer,
    decide_transfer,
    refuse_taken_references,
)
from domain.errors import DomainError, InvalidBatch
from domain.ledger import Posting
from domain.money import MAX_MINOR_UNITS

MAX_BATCH_SIZE = 1000


class TransferBatch:
    """Many transfers (and holds) in one unit of work: every account locked once, in id
    order; items applied in order, so a later item sees what an earlier one did.

    Not atomic: each item succeeds or is refused on its own. Atomic (TigerBeetle's linked
    chain): the first refusal refuses the batch, and nothing moves.
    """

    def __init__(self, movement: MoneyMovement, max_amount: int = MAX_MINOR_UNITS) -> None:
        self._movement = movement
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
        checked: list[CheckedTransfer | DomainError] = []
        for request in requests:
            try:
                checked.append(check_transfer(request, self._max_amount))
            except DomainError as refusal:  # answered in order, with the others, below
                checked.append(refusal)

        async def decide(uow: UnitOfWork, moment: Moment) -> BatchDecision:
            ids = {
                account_id
                for item in checked
                if isinstance(item, CheckedTransfer)
                for account_id in (item.source_id, item.destination_id)
            }
            locked = await moment.lock(uow, ids) if ids else {}
            taken = await refuse_taken_references(
                uow,
                user_id,
                [item.reference if isinstance(item, CheckedTransfer) else None for item in checked],
            )
            postings: list[Posting] = []
            results: list[ItemResult] = []
            for index, item in enumerate(checked):
                try:
                    if isinstance(item, DomainError):
                        raise item
                    if (duplicate := taken[index]) is not None:
                        raise duplicate
                    posting = decide_transfer(item, locked, user_id, moment.now)
                except DomainError as refusal:
                    if atomic:
                        raise BatchRefused(index, refusal) from None
                    results.append(ItemResult(refusal=refusal))
                    continue
                postings.append(posting)
                results.append(ItemResult(transfer=posting.transfer))
            return BatchDecision(postings, results)

        fingerprint = tuple(
            item.fingerprint() if isinstance(item, CheckedTransfer) else (item.code, item.detail)
            for item in checked
        )
        return await self._movement.run_batch(
            decide,
            user_id=user_id,
            idempotency_key=idempotency_key,
            request=("batch", atomic, *fingerprint),
        )
