"""Stop signals for the `hexbank` command: SIGINT, SIGTERM (and SIGHUP, taken as SIGTERM) end
it at any moment, also in the middle of starting the embedded PostgreSQL or NATS.

The first signal raises `Interrupted` wherever the main thread is, so every `with` block
unwinds and stops what it started (initdb, postgres, nats-server). Later signals are ignored:
they would interrupt that cleanup and leave servers behind. A command interrupted this way
exits 128 + the signal's number (130 for SIGINT, 143 for SIGTERM), the shell's convention;
`hexbank serve` exits 0 when it had finished starting (uvicorn stops it gracefully).
"""

from __future__ import annotations

import asyncio
import os
import signal
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from types import FrameType

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


class Interrupted(SystemExit):
    """A stop signal arrived: the process exits with 128 + its number, unless the command
    decides a stop is its normal end. A SystemExit, because everything on the way lets that
    through: `except Exception` (a driver, a preflight check, a retry loop) does not take it
    for a failure of its own, and asyncio re-raises it from a callback where it would log and
    swallow any other exception. Not KeyboardInterrupt: click would print "Aborted!" and
    exit 1."""

    def __init__(self, signum: int) -> None:
        super().__init__(128 + signum)
        self.signum = signum

    def __str__(self) -> str:
        return signal.Signals(self.signum).name


class _State:
    stopping = False
    pending: int | None = None
    """A signal handed to an event loop that has not raised it yet."""
    noted_only = False
    """While uvicorn serves (`noted_while_serving`)."""


def _interrupt(signum: int, _frame: FrameType | None) -> None:
    if _State.stopping:
        return  # cleanup of the first signal is under way: let it finish
    _State.stopping = True
    if _State.noted_only:
        _State.pending = signum
        return
    loop = asyncio._get_running_loop()
    if loop is not None:
        # Inside a running loop the handler may have stopped the main thread anywhere: in
        # asyncpg's Cython code, in SQLAlchemy's greenlet switch (raising there crashed the
        # interpreter). The loop raises it from a callback of its own instead, in a clean
        # state; asyncio.run then cancels its tasks (closing connections) and lets it through.
        _State.pending = signum
        with suppress(RuntimeError):  # a loop closing just now: the next checkpoint raises
            loop.call_soon_threadsafe(_raise_pending)
            return
    raise Interrupted(signum)


def _raise_pending() -> None:
    signum, _State.pending = _State.pending, None
    if signum is not None:
        raise Interrupted(signum)


@contextmanager
def noted_while_serving() -> Iterator[None]:
    """uvicorn handles stop signals while it serves and, once shut down, raises them again
    from inside its event loop, which is closing: raised there, `Interrupted` would stop the
    loop's own shutdown half way. Such a signal is only noted here, and raised by
    `raise_if_interrupted` once the loop has ended."""
    _State.noted_only = True
    try:
        yield
    finally:
        _State.noted_only = False


def raise_if_interrupted() -> None:
    """A checkpoint after an event loop has ended: a signal that reached the loop as it
    closed, too late for its callback to run, is raised here."""
    _raise_pending()


def _hangup_is_terminate(_signum: int, _frame: FrameType | None) -> None:
    """A closed terminal (SIGHUP) stops the service the way SIGTERM does."""
    os.kill(os.getpid(), signal.SIGTERM)


def handle_stop_signals() -> None:
    """From here on a stop signal raises `Interrupted` (uvicorn takes them over while it runs
    and raises them again when it has shut down)."""
    _State.stopping, _State.pending = False, None
    for sig in STOP_SIGNALS:
        signal.signal(sig, _interrupt)
    signal.signal(signal.SIGHUP, _hangup_is_terminate)
