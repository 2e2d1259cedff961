from __future__ import annotations

from types import TracebackType
from typing import Self

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from adapters.sealed_secrets import SecretSealer
from adapters.sqlalchemy.accounts import SqlAlchemyAccountRepository
from adapters.sqlalchemy.api_keys import SqlAlchemyApiKeyRepository
from adapters.sqlalchemy.engine import STATEMENT_TIMEOUT_MS
from adapters.sqlalchemy.errors import translate, translated_errors
from adapters.sqlalchemy.idempotency import SqlAlchemyIdempotencyStore
from adapters.sqlalchemy.ledger import SqlAlchemyLedgerRepository
from adapters.sqlalchemy.locked_monitors import LockedMonitors
from adapters.sqlalchemy.monitors import SqlAlchemyMonitorRepository
from adapters.sqlalchemy.outbox import SqlAlchemyOutbox
from adapters.sqlalchemy.users import SqlAlchemyUserRepository
from adapters.sqlalchemy.webhooks import (
    SqlAlchemyWebhookDeliveryQueue,
    SqlAlchemyWebhookEndpointRepository,
)
from application.errors import StorageUnavailable
from application.ports.unit_of_work import UnitOfWork


def _no_key() -> str:
    raise RuntimeError("this unit of work was given no key to seal webhook secrets with")


class SqlAlchemyUnitOfWork(UnitOfWork):
    """One pooled connection, hence one transaction, per unit of work; no ORM Session.

    Every statement is Core (tables mapped to domain objects by hand), so a Session's
    bookkeeping (identity map, autobegin, flush checks) would only cost CPU: more than a
    short statement's own. The connection begins on its first statement and commits on
    `commit()`; leaving without it rolls back as the connection goes back to the pool.

    With `autocommit` (reads) nothing wraps the statements, no BEGIN/ROLLBACK round trips:
    the connection is switched to AUTOCOMMIT for this unit of work alone and the pool
    switches it back on return. That is SQLAlchemy's own mechanism, as on an autocommit
    engine view (`engine.execution_options(...)`), whose per-statement event dispatch costs
    more. Behind PgBouncer reads stay in a transaction (only a transaction pins a server).

    Database failures leave it as application errors (`TransientConflict`,
    `StorageUnavailable`), so use cases can retry or report them without knowing SQL.

    With `statement_timeout_ms`, the connection's `statement_timeout` is that while this unit
    of work holds it. Reads (`reading`) carry a shorter one than writes, and a read it cuts
    is `ReadTimedOut`, not `StorageUnavailable`. A connection remembers its current value
    (set at connect, see `engine.create_engine`), so a SET is sent only when a connection
    passes from reads to writes or back, never while a workload stays on one side.
    """

    def __init__(
        self,
        engine: AsyncEngine,
        *,
        autocommit: bool = False,
        statement_timeout_ms: int | None = None,
        reading: bool = False,
        sealer: SecretSealer | None = None,
    ) -> None:
        self._engine = engine
        self._sealer = sealer or SecretSealer(_no_key)
        self._autocommit = autocommit
        self._statement_timeout_ms = statement_timeout_ms
        self._reading = reading

    async def __aenter__(self) -> Self:
        async with translated_errors():  # a pool timeout here is a 503, as in a statement
            self._connection: AsyncConnection = await self._engine.connect().start()
            if self._autocommit:
                try:
                    await self._connection.execution_options(isolation_level="AUTOCOMMIT")
                except BaseException:
                    await self._connection.close()
                    raise
        if self._statement_timeout_ms is not None:
            await self._set_statement_timeout(self._statement_timeout_ms)
        self.users = SqlAlchemyUserRepository(self._connection)
        # The monitors the account lock reads come with it (0014): the monitor repository
        # serves a movement's read of them from that round trip.
        locked_monitors = LockedMonitors()
        self.accounts = SqlAlchemyAccountRepository(self._connection, locked_monitors)
        self.ledger = SqlAlchemyLedgerRepository(self._connection)
        self.idempotency = SqlAlchemyIdempotencyStore(self._connection)
        self.outbox = SqlAlchemyOutbox(self._connection)
        self.api_keys = SqlAlchemyApiKeyRepository(self._connection)
        self.webhook_endpoints = SqlAlchemyWebhookEndpointRepository(self._connection, self._sealer)
        self.webhook_deliveries = SqlAlchemyWebhookDeliveryQueue(self._connection, self._sealer)
        self.monitors = SqlAlchemyMonitorRepository(self._connection, locked_monitors)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        try:
            await self._connection.close()  # rolls back whatever was not committed
        except Exception as close_error:
            # A failure while closing matters only when nothing failed before it.
            if exc is None:
                translated = translate(close_error)
                if translated is not None:
                    raise translated from close_error
                raise
        if exc is not None and (translated := translate(exc, reading=self._reading)) is not None:
            raise translated from exc

    async def _set_statement_timeout(self, milliseconds: int) -> None:
        """Before the first statement, outside any transaction (a SET inside one would be
        undone by its rollback): straight on the driver's connection."""
        info = self._connection.info
        if info.get(STATEMENT_TIMEOUT_MS) == milliseconds:
            return
        try:
            driver = (await self._connection.get_raw_connection()).driver_connection
            if driver is None:
                raise RuntimeError("a checked-out connection has no driver connection")
            await driver.execute(f"SET statement_timeout = {int(milliseconds)}")
        except BaseException as error:
            # Whatever state it is in, this connection is not one to hand out again.
            await self._connection.invalidate()
            await self._connection.close()
            if isinstance(error, Exception):
                raise StorageUnavailable("The database connection failed or timed out.") from error
            raise
        info[STATEMENT_TIMEOUT_MS] = milliseconds

    async def commit(self) -> None:
        await self._connection.commit()

    async def rollback(self) -> None:
        await self._connection.rollback()
