"""Checking, before anything else runs, that the configured database can be used at all, and
saying in one line what is wrong when it cannot: host, port, database and role, never the
password (a URL is never echoed whole)."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import asyncpg
from sqlalchemy import text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool


class DatabaseUnusable(Exception):
    """The database named by the settings cannot be used; the message says what to fix."""


async def check_database(url: str, timeout_s: float) -> None:
    """Connect once and run `SELECT 1`; raise `DatabaseUnusable` with the reason otherwise."""
    engine = create_async_engine(url, poolclass=NullPool, connect_args={"timeout": timeout_s})
    try:
        async with engine.connect() as connection:
            await connection.execute(text("SELECT 1"))
    except Exception as error:
        raise DatabaseUnusable(describe_failure(make_url(url), error, timeout_s)) from None
    finally:
        await engine.dispose()


def describe_failure(url: URL, error: BaseException, timeout_s: float) -> str:
    where = _where(url)
    database, role = url.database or "(default)", url.username or "(default)"
    for cause in _causes(error):
        if isinstance(cause, asyncpg.InvalidCatalogNameError):
            return (
                f"database {database!r} does not exist on {where}: create it "
                "or name another one in DATABASE_URL"
            )
        if isinstance(cause, asyncpg.InvalidPasswordError):
            return f"PostgreSQL at {where} refused the password of role {role!r} (DATABASE_URL)"
        if isinstance(cause, asyncpg.InvalidAuthorizationSpecificationError):
            return f"PostgreSQL at {where} refused role {role!r}: {_first_line(cause)}"
        if isinstance(cause, asyncpg.PostgresError):
            return f"PostgreSQL at {where} refused the connection: {_first_line(cause)}"
        if isinstance(cause, socket.gaierror):
            return f"cannot resolve the database host of {where} (DATABASE_URL)"
        if isinstance(cause, ConnectionRefusedError):
            return f"nothing accepts connections at {where}: is PostgreSQL running there?"
        if isinstance(cause, TimeoutError):
            return f"no answer from {where} within {timeout_s:g} s"
        if isinstance(cause, OSError) and cause.strerror:
            return f"cannot reach {where}: {cause.strerror}"
    return f"cannot use the database at {where}: {_first_line(error)}"


def _where(url: URL) -> str:
    hosts = url.query.get("host")
    if hosts:  # the multi-host form: ?host=h1:p1&host=h2:p2
        listed = ", ".join([hosts] if isinstance(hosts, str) else hosts)
        return f"{listed} (database {url.database!r})"
    return f"{url.host or 'localhost'}:{url.port or 5432}/{url.database or ''}"


def _causes(error: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        orig = getattr(current, "orig", None)
        current = (
            orig if isinstance(orig, BaseException) else (current.__cause__ or current.__context__)
        )


def _first_line(error: BaseException) -> str:
    text_ = str(error).strip().splitlines()
    return text_[0] if text_ else type(error).__name__
