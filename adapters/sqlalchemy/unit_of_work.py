from __future__ import annotations

from types import TracebackType
from typing import Self

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from adapters.sqlalchemy.accounts import SqlAlchemyAccountRepository
from adapters.sqlalchemy.errors import translate, translated_errors
from adapters.sqlalchemy.idempotency import SqlAlchemyIdempotencyStore
from adapters.sqlalchemy.ledger import SqlAlchemyLedgerRepository
from adapters.sqlalchemy.outbox import SqlAlchemyOutbox
from adapters.sqlalchemy.users import SqlAlchemyUserRepository
from application.ports.unit_of_work import UnitOfWork


class SqlAlchemyUnitOfWork(UnitOfWork):
    """One AsyncSession, hence one transaction, per unit of work.

    Database failures leave it as application errors (`TransientConflict`,
    `StorageUnavailable`), so use cases can retry or report them without knowing SQL.
    """

    def __init__(self, session_factory: async_sessionmaker[AsyncSession]) -> None:
        self._session_factory = session_factory

    async def __aenter__(self) -> Self:
        self._session = self._session_factory()
        self.users = SqlAlchemyUserRepository(self._session)
        self.accounts = SqlAlchemyAccountRepository(self._session)
        self.ledger = SqlAlchemyLedgerRepository(self._session)
        self.idempotency = SqlAlchemyIdempotencyStore(self._session)
        self.outbox = SqlAlchemyOutbox(self._session)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        try:
            await self._session.close()  # rolls back whatever was not committed
        except Exception as close_error:
            # A failure while closing matters only when nothing failed before it.
            if exc is None:
                translated = translate(close_error)
                if translated is not None:
                    raise translated from close_error
                raise
        if exc is not None and (translated := translate(exc)) is not None:
            raise translated from exc

    async def commit(self) -> None:
        await self._session.commit()

    async def rollback(self) -> None:
        await self._session.rollback()


class SqlAlchemyReadUnitOfWork(UnitOfWork):
    """For use cases that only read: one pooled connection, no ORM Session.

    A Session's transaction bookkeeping (identity map, snapshots, autobegin) costs more CPU
    than a short read's statement. Users and accounts run their Core statements on the
    connection itself; the ledger, idempotency and outbox repositories get a Session bound
    to the same connection, which begins only if one of them is used.

    With `autocommit` nothing wraps the statements (no BEGIN/ROLLBACK round trips): the
    connection is switched to AUTOCOMMIT for this unit of work alone and the pool switches it
    back on return. That is SQLAlchemy's own mechanism, as on an autocommit engine view
    (`engine.execution_options(...)`), whose per-statement event dispatch costs more.
    Without it (PgBouncer) the first statement begins a transaction and leaving rolls it back.
    """

    def __init__(self, engine: AsyncEngine, *, autocommit: bool) -> None:
        self._engine = engine
        self._autocommit = autocommit

    async def __aenter__(self) -> Self:
        async with translated_errors():  # a pool timeout here is a 503, as in a statement
            self._connection = await self._engine.connect().start()
            if self._autocommit:
                try:
                    await self._connection.execution_options(isolation_level="AUTOCOMMIT")
                except BaseException:
                    await self._connection.close()
                    raise
        self._session = AsyncSession(bind=self._connection)
        self.users = SqlAlchemyUserRepository(self._connection)
        self.accounts = SqlAlchemyAccountRepository(self._connection)
        self.ledger = SqlAlchemyLedgerRepository(self._session)
        self.idempotency = SqlAlchemyIdempotencyStore(self._session)
        self.outbox = SqlAlchemyOutbox(self._session)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        try:
            if self._session.in_transaction():  # unused, it holds nothing to release
                await self._session.close()
            await self._connection.close()  # back to the pool, rolled back if need be
        except Exception as close_error:
            if exc is None:
                translated = translate(close_error)
                if translated is not None:
                    raise translated from close_error
                raise
        if exc is not None and (translated := translate(exc)) is not None:
            raise translated from exc

    async def commit(self) -> None:
        if self._session.in_transaction():
            await self._session.commit()
        if self._connection.in_transaction():
            await self._connection.commit()

    async def rollback(self) -> None:
        if self._session.in_transaction():
            await self._session.rollback()
        if self._connection.in_transaction():
            await self._connection.rollback()
