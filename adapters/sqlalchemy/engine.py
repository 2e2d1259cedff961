"""Building the async engines from settings, tuned for asyncpg."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from functools import partial
from typing import Any
from uuid import uuid4

from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from adapters.sqlalchemy.errors import invalidate_uncertain_connections

STATEMENT_TIMEOUT_MS = "hexbank_statement_timeout_ms"
"""Key of a pooled connection's `info`: its current statement_timeout (see the unit of work)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class EngineOptions:
    """Every knob of the pool and of each connection; the values come from settings."""

    pool_size: int
    max_overflow: int
    pool_timeout: float
    pool_pre_ping: bool
    connect_timeout: float
    statement_timeout_ms: int
    lock_timeout_ms: int
    command_timeout: float
    """Client side: bounds a call even when the network, not the server, is what hangs."""
    isolation_level: str
    statement_cache_size: int
    """Prepared statements cached per connection (asyncpg's and SQLAlchemy's)."""
    pgbouncer: bool
    """Behind PgBouncer in transaction pooling mode (before 1.21): no statement caches, a
    unique name for every prepared statement, no server-side settings at connect (PgBouncer
    refuses unknown startup parameters: set the timeouts on the role instead), and every
    statement inside a transaction, since only a transaction pins a server connection."""


def create_engine(url: str, options: EngineOptions) -> AsyncEngine:
    """An engine whose every connection carries timeouts, so a hung database or a long lock
    wait ends in an error the service answers with 503, never a request that hangs.

    Connects lazily: building it touches no network.
    """
    connect_args: dict[str, object] = {
        "timeout": options.connect_timeout,
        "command_timeout": options.command_timeout,
        "statement_cache_size": options.statement_cache_size,
        "server_settings": {
            "application_name": "hexbank",
            "statement_timeout": str(options.statement_timeout_ms),
            "lock_timeout": str(options.lock_timeout_ms),
            "idle_in_transaction_session_timeout": str(options.statement_timeout_ms * 6),
            # Short statements only: JIT compiling one whose estimate is high (a search over
            # 2,000 accounts, one index probe each) cost 40 to 400 ms for 2 to 4 ms of work.
            "jit": "off",
        },
    }
    if options.pgbouncer:
        connect_args.update(
            statement_cache_size=0,
            prepared_statement_name_func=lambda: f"__asyncpg_{uuid4()}__",
            server_settings={"application_name": "hexbank"},
        )
        url = (
            make_url(url)
            .update_query_dict({"prepared_statement_cache_size": "0"})
            .render_as_string(hide_password=False)
        )
    engine = create_async_engine(
        url,
        pool_size=options.pool_size,
        max_overflow=options.max_overflow,
        pool_timeout=options.pool_timeout,
        pool_pre_ping=options.pool_pre_ping,
        isolation_level=options.isolation_level,
        connect_args=connect_args,
    )
    # A connection whose state an error made uncertain never goes back to the pool.
    event.listen(engine.sync_engine, "handle_error", invalidate_uncertain_connections)
    if not options.pgbouncer:  # there no session setting is ours to keep
        event.listen(
            engine.sync_engine,
            "connect",
            partial(_remember_statement_timeout, options.statement_timeout_ms),
        )
    return engine


def _remember_statement_timeout(milliseconds: int, _: Any, record: Any) -> None:
    """What a new connection's statement_timeout is: the one set at connect."""
    record.info[STATEMENT_TIMEOUT_MS] = milliseconds


def optional_engine(url: str | None, options: EngineOptions) -> AsyncEngine | None:
    return None if url is None else create_engine(url, options)


async def disposed_on_shutdown(engine: AsyncEngine | None) -> AsyncIterator[AsyncEngine | None]:
    """An engine's lifetime as a container resource: closes every pooled connection."""
    try:
        yield engine
    finally:
        if engine is not None:
            await engine.dispose()


def autocommit(engine: AsyncEngine, pgbouncer: bool) -> AsyncEngine:
    """The same pool, without BEGIN and ROLLBACK around each read: two round trips fewer for
    a unit of work that only reads (each statement still sees one consistent snapshot).
    Not behind PgBouncer: there only a transaction keeps a statement on one server."""
    return engine if pgbouncer else engine.execution_options(isolation_level="AUTOCOMMIT")


def reporting_engine(
    read_engine: AsyncEngine, replica: AsyncEngine | None, pgbouncer: bool
) -> AsyncEngine:
    """Where statements and summaries are read: a replica when one is configured, in
    autocommit there too unless behind PgBouncer (the same argument as `autocommit`)."""
    return read_engine if replica is None else autocommit(replica, pgbouncer)


def make_session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False, autoflush=False)
