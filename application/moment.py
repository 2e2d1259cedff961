"""The moment a money movement decides at."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from uuid import UUID

from application.ports.clock import Clock
from application.ports.unit_of_work import UnitOfWork
from domain.account import Account


class Moment:
    """When a movement decides: the clock is read again once its account locks are held.

    A movement may wait for its locks while another, holding them, treats a hold as expired
    and spends what it kept back; deciding at a time read before that wait would still find
    the hold pending (a void answered after the money was spent). Read after the locks, the
    time is never before that of any movement the locks made it wait for. The held sums are
    read with the locks, as of the time they were asked for: a hold that expired during the
    wait still counts there, which can refuse a debit, never allow one. A clock that steps
    back during the wait leaves the time where it was: deciding earlier than the held sums
    were read would undo that guarantee."""

    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self.now: datetime = clock.now()
        """Before the locks: when the request began (idempotency claims, unlocked reads);
        after them: when the locks were held."""

    async def lock(self, uow: UnitOfWork, account_ids: Collection[UUID]) -> dict[UUID, Account]:
        locked = await uow.accounts.lock(account_ids, at=self.now)
        self.now = max(self.now, self._clock.now())
        return locked
