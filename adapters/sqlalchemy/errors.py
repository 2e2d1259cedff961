"""Turning driver errors into the application's words, by SQLSTATE and constraint name, and
telling which errors leave a connection in a state nobody can vouch for."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from asyncpg import PostgresError
from sqlalchemy.engine import ExceptionContext
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from application.errors import (
    ApplicationError,
    ReadTimedOut,
    StorageUnavailable,
    TransientConflict,
)

SERIALIZATION_FAILURE = "40001"
DEADLOCK_DETECTED = "40P01"
LOCK_NOT_AVAILABLE = "55P03"
QUERY_CANCELED = "57014"
# Errors the server reports about the statement itself: the connection is fine afterwards
# and the pool's ROLLBACK on return leaves it clean (integrity, transaction rollback).
_CLEAN_ON_ROLLBACK = ("23", "40")


def sqlstate(error: BaseException | None) -> str | None:
    if isinstance(error, DBAPIError):
        error = error.orig
    code = getattr(error, "sqlstate", None) or getattr(error, "pgcode", None)
    return code if isinstance(code, str) else None


def constraint_name(error: DBAPIError) -> str | None:
    """asyncpg keeps the violated constraint on the exception SQLAlchemy wraps."""
    cause = error.orig.__cause__ if error.orig is not None else None
    name = getattr(cause, "constraint_name", None) or getattr(error.orig, "constraint_name", None)
    return name if isinstance(name, str) else None


def translate(error: BaseException, *, reading: bool = False) -> ApplicationError | None:
    """The application error a database failure means, or None for a genuine bug.

    The one translation point: units of work, the attempt limiter and every other caller
    of the database go through it (directly or with `translated_errors`). A read cut by
    the server (its statement timeout) is the caller's to narrow, not the database's
    failure: `ReadTimedOut`; a write's is `StorageUnavailable`, as before."""
    if isinstance(error, PoolTimeout):
        return StorageUnavailable("No database connection became free in time.")
    if isinstance(error, DBAPIError):
        state = sqlstate(error)
        if state in (SERIALIZATION_FAILURE, DEADLOCK_DETECTED, LOCK_NOT_AVAILABLE):
            return TransientConflict(f"The transaction met a concurrent one ({state}).")
        if reading and state == QUERY_CANCELED:
            return ReadTimedOut(
                "The read took longer than its time limit: narrow the filters (an account, a "
                "kind or status, a time range) or ask for a smaller page, and retry."
            )
        if (
            error.connection_invalidated
            or state == QUERY_CANCELED
            or (state or "").startswith("08")
        ):
            return StorageUnavailable("The database connection failed or timed out.")
        return None
    if isinstance(error, OSError | TimeoutError):
        return StorageUnavailable("The database cannot be reached.")
    return None


@asynccontextmanager
async def translated_errors() -> AsyncIterator[None]:
    """Database work outside a unit of work (the attempt limiter) leaves with the same
    application errors a unit of work would raise: 503 while the database is away, not 500."""
    try:
        yield
    except Exception as error:
        translated = translate(error)
        if translated is None:
            raise
        raise translated from error


def leaves_connection_uncertain(error: BaseException, statement: str | None) -> bool:
    """True when nobody can say what state the connection is in after `error`.

    A client-side failure (a parameter asyncpg cannot encode, a protocol or network error)
    may leave the server half way through a message exchange, with the statement timer
    armed; a cancelled statement, or a failed BEGIN, COMMIT or ROLLBACK, leaves no better
    guarantee. Such a connection goes back to the pool as a time bomb: the next
    transaction on it fails. Errors the server reports about a statement are clean."""
    driver_error = error.orig if isinstance(error, DBAPIError) else error
    # asyncpg raises some client-side failures (an argument it cannot encode) as a
    # PostgresError too; only a message from the server carries a severity.
    cause = getattr(driver_error, "__cause__", None)
    reported_by_server = isinstance(cause, PostgresError) and cause.severity is not None
    state = sqlstate(driver_error)
    if not reported_by_server or state is None or state == QUERY_CANCELED:
        return True
    return statement is None and not state.startswith(_CLEAN_ON_ROLLBACK)


def invalidate_uncertain_connections(context: ExceptionContext) -> None:
    """`handle_error` hook: throw the connection away (that one, not the whole pool)."""
    if context.is_disconnect or context.is_pre_ping:
        return
    if leaves_connection_uncertain(context.original_exception, context.statement):
        context.is_disconnect = True
        context.invalidate_pool_on_disconnect = False
