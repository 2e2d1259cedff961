"""Turning driver errors into the application's words, by SQLSTATE and constraint name."""

from __future__ import annotations

from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from application.errors import ApplicationError, StorageUnavailable, TransientConflict

SERIALIZATION_FAILURE = "40001"
DEADLOCK_DETECTED = "40P01"
LOCK_NOT_AVAILABLE = "55P03"
QUERY_CANCELED = "57014"


def sqlstate(error: DBAPIError) -> str | None:
    code = getattr(error.orig, "sqlstate", None) or getattr(error.orig, "pgcode", None)
    return code if isinstance(code, str) else None


def constraint_name(error: DBAPIError) -> str | None:
    """asyncpg keeps the violated constraint on the exception SQLAlchemy wraps."""
    cause = error.orig.__cause__ if error.orig is not None else None
    name = getattr(cause, "constraint_name", None) or getattr(error.orig, "constraint_name", None)
    return name if isinstance(name, str) else None


def translate(error: BaseException) -> ApplicationError | None:
    """The application error a database failure means, or None for a genuine bug."""
    if isinstance(error, PoolTimeout):
        return StorageUnavailable("No database connection became free in time.")
    if isinstance(error, DBAPIError):
        state = sqlstate(error)
        if state in (SERIALIZATION_FAILURE, DEADLOCK_DETECTED, LOCK_NOT_AVAILABLE):
            return TransientConflict(f"The transaction met a concurrent one ({state}).")
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
