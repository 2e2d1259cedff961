"""What every attempt limiter must do, in memory and in PostgreSQL: the fixed-window count that
blocks a key at its limit, the wait reported for the most blocked key, reset and purge. (The
HTTP tests of throttling run on the in-memory one.)"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from adapters.in_memory.attempt_limiter import InMemoryAttemptLimiter
from adapters.sqlalchemy.attempt_limiter import SqlAlchemyAttemptLimiter
from application.ports.attempt_limiter import AttemptLimiter, AttemptPolicy

NOW = datetime(2026, 3, 1, 9, 30, tzinfo=UTC)
THREE_A_MINUTE = AttemptPolicy(limit=3, window=timedelta(minutes=1), block=timedelta(minutes=5))


@pytest.fixture(params=["in_memory", pytest.param("postgres", marks=pytest.mark.postgres)])
def limiter(request: pytest.FixtureRequest) -> AttemptLimiter:
    if request.param == "in_memory":
        return InMemoryAttemptLimiter()
    return SqlAlchemyAttemptLimiter(request.getfixturevalue("container").autocommit_engine())


async def test_a_key_is_blocked_at_its_limit_for_the_block_time(limiter: AttemptLimiter) -> None:
    for n in range(2):
        await limiter.record("email:ada", THREE_A_MINUTE, now=NOW + timedelta(seconds=n))
    assert await limiter.blocked_for(["email:ada"], now=NOW + timedelta(seconds=2)) is None
    await limiter.record("email:ada", THREE_A_MINUTE, now=NOW + timedelta(seconds=10))
    assert await limiter.blocked_for(
        ["email:ada", "client:1"], now=NOW + timedelta(seconds=70)
    ) == (timedelta(minutes=5, seconds=10) - timedelta(seconds=70))
    assert await limiter.blocked_for(["client:1"], now=NOW + timedelta(seconds=70)) is None
    assert await limiter.blocked_for(["email:ada"], now=NOW + timedelta(minutes=6)) is None


async def test_the_count_starts_again_once_its_window_has_passed(limiter: AttemptLimiter) -> None:
    await limiter.record("email:ada", THREE_A_MINUTE, now=NOW)
    await limiter.record("email:ada", THREE_A_MINUTE, now=NOW + timedelta(seconds=30))
    await limiter.record("email:ada", THREE_A_MINUTE, now=NOW + timedelta(seconds=61))
    assert await limiter.blocked_for(["email:ada"], now=NOW + timedelta(seconds=62)) is None


async def test_the_most_blocked_key_names_the_wait(limiter: AttemptLimiter) -> None:
    await limiter.record(
        "client:1", AttemptPolicy(1, timedelta(minutes=1), timedelta(minutes=1)), now=NOW
    )
    await limiter.record(
        "email:bob", AttemptPolicy(1, timedelta(minutes=1), timedelta(hours=1)), now=NOW
    )
    assert await limiter.blocked_for(
        ["client:1", "email:bob"], now=NOW + timedelta(seconds=30)
    ) == timedelta(minutes=59, seconds=30)


async def test_reset_and_purge_forget_counts(limiter: AttemptLimiter) -> None:
    for _ in range(3):
        await limiter.record("email:ada", THREE_A_MINUTE, now=NOW)
    await limiter.reset("email:ada")
    assert await limiter.blocked_for(["email:ada"], now=NOW) is None
    await limiter.record("email:ada", THREE_A_MINUTE, now=NOW)
    await limiter.record("email:ada", THREE_A_MINUTE, now=NOW)
    assert await limiter.blocked_for(["email:ada"], now=NOW) is None  # counted from zero again

    for _ in range(3):
        await limiter.record("client:1", THREE_A_MINUTE, now=NOW)
    later = NOW + timedelta(minutes=2)
    # ada's count is stale and blocks nothing; client 1 is still blocked: kept.
    assert await limiter.purge(NOW + timedelta(minutes=1), now=later) == 1
    assert await limiter.blocked_for(["client:1"], now=later) == timedelta(minutes=3)
    await limiter.record("email:ada", THREE_A_MINUTE, now=later)
    assert await limiter.blocked_for(["email:ada"], now=later) is None
