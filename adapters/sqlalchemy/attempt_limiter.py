"""Attempt counters in PostgreSQL: one upsert per attempt, shared by every app instance."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import ARRAY, DateTime, Integer, Interval, Text, bindparam, text
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.sqlalchemy.errors import translated_errors
from application.ports.attempt_limiter import AttemptLimiter, AttemptPolicy

_RECORD = text(
    """
    INSERT INTO attempt_counters AS c (key, count, window_started_at, blocked_until)
    VALUES (:key, 1, :now, CASE WHEN :limit <= 1 THEN :now + :block END)
    ON CONFLICT (key) DO UPDATE SET
        count = CASE WHEN c.window_started_at + :window <= :now THEN 1 ELSE c.count + 1 END,
        window_started_at = CASE WHEN c.window_started_at + :window <= :now
                                 THEN :now ELSE c.window_started_at END,
        blocked_until = CASE
            WHEN (CASE WHEN c.window_started_at + :window <= :now THEN 1 ELSE c.count + 1 END)
                 >= :limit
            THEN :now + :block
            ELSE c.blocked_until END
    """
).bindparams(
    bindparam("key", type_=Text),
    bindparam("now", type_=DateTime(timezone=True)),
    bindparam("limit", type_=Integer),
    bindparam("window", type_=Interval),
    bindparam("block", type_=Interval),
)
_BLOCKED_UNTIL = text(
    "SELECT max(blocked_until) FROM attempt_counters"
    " WHERE key = ANY(:keys) AND blocked_until > :now"
).bindparams(bindparam("keys", type_=ARRAY(Text)), bindparam("now", type_=DateTime(timezone=True)))
_RESET = text("DELETE FROM attempt_counters WHERE key = :key")
_PURGE = text(
    "DELETE FROM attempt_counters WHERE window_started_at < :stale_before"
    " AND (blocked_until IS NULL OR blocked_until <= :now)"
).bindparams(
    bindparam("stale_before", type_=DateTime(timezone=True)),
    bindparam("now", type_=DateTime(timezone=True)),
)


class SqlAlchemyAttemptLimiter(AttemptLimiter):
    """Each call is its own short transaction: a count must stick even when the request
    that made it fails, and must not wait for any other transaction. Errors leave through
    the same translation as a unit of work's (503 while the database is away)."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def blocked_for(self, keys: Sequence[str], *, now: datetime) -> timedelta | None:
        async with translated_errors(), self._engine.begin() as connection:
            until = await connection.scalar(_BLOCKED_UNTIL, {"keys": list(keys), "now": now})
        return None if until is None else until - now

    async def record(self, key: str, policy: AttemptPolicy, *, now: datetime) -> None:
        async with translated_errors(), self._engine.begin() as connection:
            await connection.execute(
                _RECORD,
                {
                    "key": key,
                    "now": now,
                    "limit": policy.limit,
                    "window": policy.window,
                    "block": policy.block,
                },
            )

    async def reset(self, key: str) -> None:
        async with translated_errors(), self._engine.begin() as connection:
            await connection.execute(_RESET, {"key": key})

    async def purge(self, stale_before: datetime, *, now: datetime) -> int:
        async with translated_errors(), self._engine.begin() as connection:
            result = await connection.execute(_PURGE, {"stale_before": stale_before, "now": now})
        return int(result.rowcount)
