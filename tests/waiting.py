"""Waiting for a condition instead of sleeping for a guessed time.

A fixed sleep is too short on a slow machine and too long on a fast one; polling the condition
itself returns as soon as it holds and fails, naming what did not happen, only at a deadline
generous enough for a loaded machine.
"""

from __future__ import annotations

import asyncio
import inspect
import time
from collections.abc import Awaitable, Callable

Condition = Callable[[], bool | Awaitable[bool]]
Description = str | Callable[[], str]


def _timed_out(what: Description, within_s: float) -> AssertionError:
    described = what() if callable(what) else what
    return AssertionError(f"waited {within_s:g} s for {described}, in vain")


async def eventually(
    condition: Condition, what: Description, *, within_s: float = 20.0, every_s: float = 0.02
) -> None:
    """Return once `condition()` (sync or async) is true; fail after `within_s` seconds.

    `what` says what was awaited ("the service to be ready again"); a callable is read at the
    deadline, so the message can carry the state that was reached instead.
    """
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within_s
    while True:
        outcome = condition()
        if inspect.isawaitable(outcome):
            outcome = await outcome
        if outcome:
            return
        if loop.time() >= deadline:
            raise _timed_out(what, within_s)
        await asyncio.sleep(every_s)


def wait_until(
    condition: Callable[[], bool],
    what: Description,
    *,
    within_s: float = 30.0,
    every_s: float = 0.05,
) -> None:
    """The blocking twin of `eventually`, for tests that drive subprocesses synchronously."""
    deadline = time.monotonic() + within_s
    while not condition():
        if time.monotonic() >= deadline:
            raise _timed_out(what, within_s)
        time.sleep(every_s)
