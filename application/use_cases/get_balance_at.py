from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from application.ports.clock import Clock
from application.ports.unit_of_work import UnitOfWorkFactory
from application.use_cases.get_account import owned_account


@dataclass(frozen=True, slots=True)
class HistoricalBalance:
    balance: int
    at: datetime
    sequence: int
    entry_hash: bytes
    """The hash of entry `sequence`: where a statement of the account closes whose `to` is
    just after `at` (a statement's `to` leaves out the entries written at it; `at` does not)."""


class GetBalanceAt:
    """What an account's posted balance was at a moment (an audit, a dispute): the balance
    after its last entry at or before then; 0 and sequence 0 before its first entry.

    True because an account's entries are dated in sequence order (see `entry_time`)."""

    def __init__(self, uow_factory: UnitOfWorkFactory, clock: Clock) -> None:
        self._uow_factory = uow_factory
        self._clock = clock

    async def __call__(
        self, owner_id: UUID, account_id: UUID, at: datetime | None = None
    ) -> HistoricalBalance:
        now = self._clock.now()
        moment = now if at is None else at
        async with self._uow_factory() as uow:
            await owned_account(uow, account_id, owner_id, at=now)
            found = await uow.ledger.balance_at(account_id, moment)
        return HistoricalBalance(found.balance, moment, found.sequence, found.entry_hash)
