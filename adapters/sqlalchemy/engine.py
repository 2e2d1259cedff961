"""Building the async engine from settings, tuned for asyncpg."""

from __future__ import annotations

from collections.abc import AsyncIterator

from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)


def create_engine(
    url: str,
    *,
    pool_size: int = 10,
    max_overflow: int = 10,
    pool_timeout: float = 5.0,
    pool_pre_ping: bool = True,
    connect_timeout: float = 5.0,
    statement_timeout_ms: int = 10_000,
    lock_timeout_ms: int = 5_000,
    isolation_level: str = "READ COMMITTED",
    statement_cache_size: int = 100,
) -> AsyncEngine:
    """An engine whose every connection carries timeouts, so a hung database or a long lock
    wait ends in an error the service answers with 503, never a request that hangs.

    Connects lazily: building it touches no network.
    """
    return create_async_engine(
        url,
        pool_size=pool_size,
        max_overflow=max_overflow,
        pool_timeout=pool_timeout,
        pool_pre_ping=pool_pre_ping,
        isolation_level=isolation_level,
        connect_args={
            "timeout": connect_timeout,
            "statement_cache_size": statement_cache_size,
            "server_settings": {
                "application_name": "hexbank",
                "statement_timeout": str(statement_timeout_ms),
                "lock_timeout": str(lock_timeout_ms),
                "idle_in_transaction_session_timeout": str(statement_timeout_ms * 6),
            },
        },
    )


async def disposed_on_shutdown(engine: AsyncEngine) -> AsyncIterator[AsyncEngine]:
    """The engine's lifetime as a container resource: closes every pooled connection."""
    try:
        yield engine
    finally:
        await engine.dispose()


def session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False, autoflush=False)
