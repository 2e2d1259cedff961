"""Building the async engines from settings, tuned for asyncpg."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)


@dataclass(frozen=True, slots=True)
class EngineOptions:
    pool_size: int = 10
    max_overflow: int = 10
    pool_timeout: float = 5.0
    pool_pre_ping: bool = False
    connect_timeout: float = 5.0
    statement_timeout_ms: int = 10_000
    lock_timeout_ms: int = 5_000
    command_timeout: float = 15.0
    """Client side: bounds a call even when the network, not the server, is what hangs."""
    isolation_level: str = "READ COMMITTED"
    statement_cache_size: int = 100
    """Prepared statements cached per connection; 0 behind PgBouncer in transaction mode."""


def create_engine(url: str, options: EngineOptions) -> AsyncEngine:
    """An engine whose every connection carries timeouts, so a hung database or a long lock
    wait ends in an error the service answers with 503, never a request that hangs.

    Connects lazily: building it touches no network.
    """
    return create_async_engine(
        url,
        pool_size=options.pool_size,
        max_overflow=options.max_overflow,
        pool_timeout=options.pool_timeout,
        pool_pre_ping=options.pool_pre_ping,
        isolation_level=options.isolation_level,
        connect_args={
            "timeout": options.connect_timeout,
            "command_timeout": options.command_timeout,
            "statement_cache_size": options.statement_cache_size,
            "server_settings": {
                "application_name": "hexbank",
                "statement_timeout": str(options.statement_timeout_ms),
                "lock_timeout": str(options.lock_timeout_ms),
                "idle_in_transaction_session_timeout": str(options.statement_timeout_ms * 6),
            },
        },
    )


def optional_engine(url: str | None, options: EngineOptions) -> AsyncEngine | None:
    return None if url is None else create_engine(url, options)


async def disposed_on_shutdown(engine: AsyncEngine | None) -> AsyncIterator[AsyncEngine | None]:
    """An engine's lifetime as a container resource: closes every pooled connection."""
    try:
        yield engine
    finally:
        if engine is not None:
            await engine.dispose()


def autocommit(engine: AsyncEngine) -> AsyncEngine:
    """The same pool, without BEGIN and ROLLBACK around each read: two round trips fewer for
    a unit of work that only reads (each statement still sees one consistent snapshot)."""
    return engine.execution_options(isolation_level="AUTOCOMMIT")


def reporting_engine(read_engine: AsyncEngine, replica: AsyncEngine | None) -> AsyncEngine:
    """Where statements and summaries are read: a replica when one is configured."""
    return read_engine if replica is None else autocommit(replica)


def make_session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False, autoflush=False)
