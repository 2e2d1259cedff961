from __future__ import annotations

from uuid import UUID

from application.ports.clock import Clock
from application.ports.unit_of_work import UnitOfWorkFactory
from domain.errors import TransferNotFound
from domain.transfer import Transfer


class GetTransfer:
    """A transfer, for the owner of either side only; to anyone else it does not exist.

    A hold past its expiry reads `expired` from that instant, written down or not."""

    def __init__(self, uow_factory: UnitOfWorkFactory, clock: Clock) -> None:
        self._uow_factory = uow_factory
        self._clock = clock

    async def __call__(self, user_id: UUID, transfer_id: UUID) -> Transfer:
        now = self._clock.now()
        async with self._uow_factory() as uow:
            transfer = await uow.ledger.get_transfer(transfer_id)
            if transfer is not None:
                sides = await uow.accounts.get_many(
                    (transfer.from_account_id, transfer.to_account_id), at=now
                )
                if any(account.is_owned_by(user_id) for account in sides.values()):
                    return transfer.as_of(now)
        raise TransferNotFound(f"Transfer {transfer_id} not found.")
