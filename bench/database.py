"""The bench database: a fresh, migrated `hexbank_bench` on DATABASE_URL's server or on the
embedded one in .data/bench, its settings as facts, and the ledger check after a run."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import asyncpg

from adapters.sqlalchemy import migrations
from bench.runs import ROOT

NAME = "hexbank_bench"


@contextmanager
def bench_database() -> Iterator[str]:
    """A fresh `hexbank_bench` database on DATABASE_URL's server, or on an embedded one."""
    # Imported here, once the run's log is set up: importing pgserver warns (XDG_RUNTIME_DIR).
    from adapters.embedded_postgres import EmbeddedPostgres

    if url := os.environ.get("DATABASE_URL"):
        server_url = url
        embedded = None
    else:
        embedded = EmbeddedPostgres(ROOT / ".data" / "bench", database="postgres")
        server_url = embedded.start()
    try:
        base, _, query = server_url.partition("?")
        root = base.rsplit("/", 1)[0]
        url = f"{root}/{NAME}" + (f"?{query}" if query else "")
        asyncio.run(_recreate(dsn(server_url), NAME))
        migrations.upgrade(url)
        yield url
    finally:
        if embedded is not None:
            embedded.stop()


def dsn(url: str) -> str:
    """The SQLAlchemy URL as a plain libpq DSN, for asyncpg."""
    return url.replace("postgresql+asyncpg://", "postgresql://", 1)


async def _recreate(dsn: str, name: str) -> None:
    connection = await asyncpg.connect(dsn)
    try:
        await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await connection.execute(f'CREATE DATABASE "{name}"')
    finally:
        await connection.close()


def database_facts(url: str) -> dict[str, str]:
    """Version and the settings that move the numbers most."""
    return asyncio.run(_database_facts(dsn(url)))


async def _database_facts(dsn: str) -> dict[str, str]:
    connection = await asyncpg.connect(dsn)
    try:
        facts = {"PostgreSQL": (await connection.fetchval("SELECT version()")).split(" on ")[0]}
        for setting in ("shared_buffers", "max_connections", "synchronous_commit", "fsync"):
            facts[setting] = await connection.fetchval(f"SHOW {setting}")
        return facts
    finally:
        await connection.close()


def settle(url: str) -> None:
    """VACUUM ANALYZE, then CHECKPOINT: what the seed wrote is cleaned up, counted and on
    disk before anything is measured, so no contender pays for it."""
    asyncio.run(_run(dsn(url), "VACUUM ANALYZE", "CHECKPOINT"))


def calm(url: str) -> None:
    """CHECKPOINT: the previous contender's dirty pages are flushed now, not while the next
    one is measured (a checkpoint's writes halved what a contender measured on this VM)."""
    asyncio.run(_run(dsn(url), "CHECKPOINT"))


async def _run(dsn: str, *statements: str) -> None:
    connection = await asyncpg.connect(dsn)
    try:
        for statement in statements:
            await connection.execute(statement)
    finally:
        await connection.close()


def ledger_after_the_run(url: str, log: Path) -> str:
    """`hexbank reconcile` over everything the run wrote; its output goes to `log`."""
    reconcile = subprocess.run(
        [sys.executable, "-m", "entrypoints.cli", "reconcile"],
        env={**os.environ, "DATABASE_URL": url},
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    log.write_text(reconcile.stdout + reconcile.stderr)
    return "reconciles" if reconcile.returncode == 0 else f"DIFFERENCES:\n{reconcile.stdout}"


def outbox_after_the_run(url: str) -> str:
    """How many events the run's money movements wrote to the outbox, and how many the
    servers' relays delivered: the bench ran the path that writes them."""
    return asyncio.run(_outbox(dsn(url)))


async def _outbox(dsn: str) -> str:
    connection = await asyncpg.connect(dsn)
    try:
        written, waiting = await connection.fetchrow(
            "SELECT (SELECT count(*) FROM events), (SELECT count(*) FROM event_deliveries)"
        )
        delivered = written - waiting
        return f"{written:,} events written, {delivered:,} delivered to NATS"
    finally:
        await connection.close()
