from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from application.ports.clock import Clock
from application.ports.unit_of_work import UnitOfWorkFactory
from application.throttle import Throttle
from application.write_pipeline import IDEMPOTENCY_KEY_TTL


@dataclass(frozen=True, slots=True)
class Purged:
    idempotency_keys: int
    attempt_counters: int


class PurgeExpired:
    """Housekeeping: forget idempotency keys past their retention and stale attempt counts,
    so neither table grows forever. Keys are kept at least `key_ttl` (24 hours)."""

    def __init__(
        self,
        uow_factory: UnitOfWorkFactory,
        throttle: Throttle,
        clock: Clock,
        key_ttl: timedelta = IDEMPOTENCY_KEY_TTL,
    ) -> None:
        self._uow_factory = uow_factory
        self._throttle = throttle
        self._clock = clock
        self._key_ttl = key_ttl

    async def __call__(self) -> Purged:
        async with self._uow_factory() as uow:
            keys = await uow.idempotency.purge(self._clock.now() - self._key_ttl)
            await uow.commit()
        return Purged(keys, await self._throttle.forget_stale())
