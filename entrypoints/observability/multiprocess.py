"""Metrics that cover every worker of `hexbank serve --workers N`: prometheus_client's
multiprocess mode.

Each worker writes its numbers to memory-mapped files in one directory, named by
PROMETHEUS_MULTIPROC_DIR; a scrape (of the supervisor's listener) reads them all. The
variable must be set before a worker imports prometheus_client, so the supervisor sets it
and the workers (spawned, not forked) inherit it. Counters of a worker that died keep
counting in the totals; its live gauges (the pool) are dropped (`mark_process_dead`) by the
next scrape, and those of every worker by the supervisor once they have all exited: not by
the worker itself, since uvicorn ends a worker by re-raising SIGTERM, past any atexit.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.multiprocess import MultiProcessCollector, mark_process_dead

DIRECTORY_VARIABLE = "PROMETHEUS_MULTIPROC_DIR"
_LIVE_GAUGE_FILE = re.compile(r"gauge_live[a-z]*_(\d+)\.db")


def shared_directory() -> Path | None:
    """Where this process's metrics are shared with its siblings; None: they are its own."""
    value = os.environ.get(DIRECTORY_VARIABLE)
    return Path(value) if value else None


@contextmanager
def metrics_shared_by_workers(workers: int) -> Iterator[Path | None]:
    """Around starting the workers, in the supervisor: a directory for their metric files,
    named in the environment they inherit. An operator's PROMETHEUS_MULTIPROC_DIR is used
    (and emptied: files of an earlier run would count again); otherwise, with more than one
    worker, a temporary one is made here and removed afterwards. One worker and no
    directory: nothing to share, nothing done."""
    given = shared_directory()
    if given is None and workers <= 1:
        yield None
        return
    directory = given or Path(tempfile.mkdtemp(prefix="hexbank-metrics-"))
    directory.mkdir(parents=True, exist_ok=True)
    for stale in directory.glob("*.db"):
        stale.unlink()
    os.environ[DIRECTORY_VARIABLE] = str(directory)
    try:
        yield directory
    finally:  # every worker has exited
        if given is None:
            del os.environ[DIRECTORY_VARIABLE]
            shutil.rmtree(directory, ignore_errors=True)
        else:
            forget_dead_workers(directory)


def forget_dead_workers(directory: Path) -> None:
    """Drop the live gauges of workers that died without exiting (SIGKILL, a crash)."""
    for path in directory.glob("gauge_live*.db"):
        match = _LIVE_GAUGE_FILE.fullmatch(path.name)
        if match and not _alive(int(match.group(1))):
            mark_process_dead(int(match.group(1)), str(directory))  # type: ignore[no-untyped-call]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process has the pid: not ours, but alive
        return True
    return True


def render_shared(directory: Path) -> bytes:
    """The exposition of every worker's metrics, summed as each metric's mode says."""
    forget_dead_workers(directory)
    registry = CollectorRegistry()
    MultiProcessCollector(registry, path=str(directory))  # type: ignore[no-untyped-call]
    exposition: bytes = generate_latest(registry)
    return exposition
