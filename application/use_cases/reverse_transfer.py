from __future__ import annotations

from collections.abc import Mapping
from uuid import UUID

from application.moment import Moment
from application.money_movement import MoneyMovement, TransferReceipt
from application.ports.unit_of_work import UnitOfWork
from application.transfer_access import locked_transfer, require_payee
from application.transfer_requests import Labels
from domain.ids import new_id
from domain.ledger import Posting
from domain.reversals import reverse_transfer
from domain.transfer import normalize_description, require_valid_amount


class ReverseTransfer:
    """The payee refunds all or part of a posted transfer, as a new transfer back."""

    def __init__(self, movement: MoneyMovement) -> None:
        self._movement = movement

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
        if amount is not None:
            require_valid_amount(amount)
        note = normalize_description(description)
        labels = Labels.checked(reference, metadata)

        async def post(uow: UnitOfWork, moment: Moment) -> Posting:
            await labels.refuse_if_taken(uow, user_id)
            original, payer, payee = await locked_transfer(uow, transfer_id, moment)
            require_payee(original, payer, payee, user_id)
            return reverse_transfer(
                original,
                reversal_id=new_id(),
                payee=payee,
                payer=payer,
                amount=amount,
                description=note,
                now=moment.now,
                created_by=user_id,
                reference=labels.reference,
                metadata=labels.metadata,
            )

        return await self._movement.run(
            post,
            user_id=user_id,
            idempotency_key=idempotency_key,
            request=("reversal", transfer_id, amount, note, *labels.fingerprint()),
        )
