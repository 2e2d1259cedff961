from __future__ import annotations

from application.events import expired_events
from application.ports.clock import Clock
from application.ports.unit_of_work import UnitOfWorkFactory
from domain.transfer import Transfer


class ExpireHolds:
    """Write `expired` on the holds whose time has passed. Readers and locks already treat
    them as expired from that instant (lazily); this keeps the stored status in step."""

    def __init__(self, uow_factory: UnitOfWorkFactory, clock: Clock) -> None:
        self._uow_factory = uow_factory
        self._clock = clock

    async def __call__(self) -> list[Transfer]:
        now = self._clock.now()
        async with self._uow_factory() as uow:
            expired = await uow.ledger.expire_overdue_holds(now)
            if expired:
                touched = {t.from_account_id for t in expired} | {t.to_account_id for t in expired}
                accounts = await uow.accounts.get_many(touched, at=now)
                await uow.outbox.add(expired_events(expired, accounts, now))
            await uow.commit()
        return expired
