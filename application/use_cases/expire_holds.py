from __future__ import annotations

import asyncio

from application.commands import ExpirePendingTransfer
from application.ports.clock import Clock
from application.ports.unit_of_work import UnitOfWorkFactory
from application.receipts import TransferReceipt
from application.teller import Teller
from domain.errors import TransferNotPending
from domain.transfer import Transfer

EXPIRY_PAGE = 500
"""Overdue holds read per round."""
EXPIRIES_IN_FLIGHT = 32
"""Expiries handed to group commit at once: enough to fill a group, few enough to leave the
pool to the requests the sweep runs beside (and, with group commit off, one connection each)."""


class ExpireHolds:
    """Write `expired` on the holds whose time has passed. Readers and locks already treat
    them as expired from that instant (lazily); this keeps the stored status in step.

    Each expiry is a money command like any other, so it takes the locks, the gates and the
    events every movement does; a hold posted or voided meanwhile is left as it is."""

    def __init__(
        self, uow_factory: UnitOfWorkFactory, clock: Clock, teller: Teller, page: int = EXPIRY_PAGE
    ) -> None:
        self._uow_factory = uow_factory
        self._clock = clock
        self._teller = teller
        self._page = page

    async def __call__(self) -> list[Transfer]:
        expired: list[Transfer] = []
        while True:
            async with self._uow_factory() as uow:
                overdue = await uow.ledger.overdue_holds(self._clock.now(), limit=self._page)
            turns = asyncio.Semaphore(EXPIRIES_IN_FLIGHT)
            answers = await asyncio.gather(
                *(self._expire(hold, turns) for hold in overdue), return_exceptions=True
            )
            for answer in answers:
                if isinstance(answer, TransferReceipt):
                    expired.append(answer.transfer)
                elif not isinstance(answer, TransferNotPending):
                    raise answer
            if len(overdue) < self._page or not any(
                isinstance(a, TransferReceipt) for a in answers
            ):
                return expired

    async def _expire(self, hold: Transfer, turns: asyncio.Semaphore) -> TransferReceipt:
        async with turns:
            return await self._teller.move(
                ExpirePendingTransfer(transfer_id=hold.id),
                user_id=None,
                idempotency_key=None,
                parties=(hold.from_account_id, hold.to_account_id),
            )
