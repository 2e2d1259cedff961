from __future__ import annotations

from types import TracebackType
from typing import Self

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from adapters.sqlalchemy.accounts import SqlAlchemyAccountRepository
from adapters.sqlalchemy.errors import translate
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
