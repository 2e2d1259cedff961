from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from application.ports.attempt_limiter import AttemptLimiter, AttemptPolicy


class InMemoryAttemptLimiter(AttemptLimiter):
    """Same fixed-window rule as the PostgreSQL one, for one process."""

    def __init__(self) -> None:
        self._counts: dict[str, tuple[int, datetime, datetime | None]] = {}

    async def blocked_for(self, keys: Sequence[str], *, now: datetime) -> timedelta | None:
        waits = [
            blocked_until - now
            for key in keys
            if (state := self._counts.get(key)) is not None
            and (blocked_until := state[2]) is not None
            and blocked_until > now
        ]
        return max(waits, default=None)

    async def record(self, key: str, policy: AttemptPolicy, *, now: datetime) -> None:
        count, started, blocked_until = self._counts.get(key, (0, now, None))
        if started + policy.window <= now:
            count, started = 0, now
        count += 1
        if count >= policy.limit:
            blocked_until = now + policy.block
        self._counts[key] = (count, started, blocked_until)

    async def reset(self, key: str) -> None:
        self._counts.pop(key, None)

    async def purge(self, stale_before: datetime, *, now: datetime) -> int:
        stale = [
            key
            for key, (_, started, blocked_until) in self._counts.items()
            if started < stale_before and (blocked_until is None or blocked_until <= now)
        ]
        for key in stale:
            del self._counts[key]
        return len(stale)
