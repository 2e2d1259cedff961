from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID, uuid4

from application.money_movement import MoneyMovement, TransferReceipt
from application.ports.unit_of_work import UnitOfWork
from domain.account import AccountKind
from domain.errors import AccountNotFound, SameAccountTransfer
from domain.ledger import Posting, post_transfer
from domain.money import MAX_MINOR_UNITS, Money
from domain.transfer import normalize_description, require_valid_amount


@dataclass(frozen=True, slots=True)
class TransferRequest:
    from_account_id: UUID
    to_account_id: UUID
    amount: int
    currency: str
    description: str | None = None


class TransferFunds:
    """Move money from one of the caller's accounts to any customer account."""

    def __init__(self, movement: MoneyMovement, max_amount: int = MAX_MINOR_UNITS) -> None:
        self._movement = movement
        self._max_amount = max_amount

    async def __call__(
        self, user_id: UUID, request: TransferRequest, idempotency_key: str | None = None
    ) -> TransferReceipt:
        amount = Money(require_valid_amount(request.amount, self._max_amount), request.currency)
        description = normalize_description(request.description)
        source_id, destination_id = request.from_account_id, request.to_account_id
        if source_id == destination_id:
            raise SameAccountTransfer("A transfer needs two different accounts.")

        async def post(uow: UnitOfWork, now: datetime) -> Posting:
            locked = await uow.accounts.lock((source_id, destination_id))
            source = locked.get(source_id)
            if source is None or not source.is_owned_by(user_id):
                raise AccountNotFound(f"Account {source_id} not found.")
            destination = locked.get(destination_id)
            if destination is None or destination.kind is not AccountKind.CUSTOMER:
                raise AccountNotFound(f"Account {destination_id} not found.")
            return post_transfer(
                transfer_id=uuid4(),
                source=source,
                destination=destination,
                amount=amount,
                description=description,
                now=now,
            )

        return await self._movement.run(
            post,
            user_id=user_id,
            idempotency_key=idempotency_key,
            request=(
                "transfer",
                source_id,
                destination_id,
                amount.amount,
                amount.currency,
                description,
            ),
        )
