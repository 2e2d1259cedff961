"""Long loops take turns with the rest of the event loop: a 1,000-item batch's work, done in
one stretch, holds every other user's request for its whole length (issue 19's fairness).

A turn is a chunk of such work. Before each chunk the task steps aside once, so requests
already waiting go first; and chunks of all such loops run one at a time, in arrival order,
so a request waits behind at most one chunk, however many batches are in flight."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager, nullcontext
from typing import TypeVar

ITEMS_PER_TURN = 50
"""Items handled in one turn."""

Item = TypeVar("Item")
Result = TypeVar("Result")

_TURNS: dict[asyncio.AbstractEventLoop, asyncio.Lock] = {}
"""Each running event loop's turn (a lock that has waited holds its loop: no weak keys)."""


def _turn_of(loop: asyncio.AbstractEventLoop) -> asyncio.Lock:
    lock = _TURNS.get(loop)
    if lock is None:
        for closed in [other for other in _TURNS if other.is_closed()]:
            del _TURNS[closed]
        lock = _TURNS[loop] = asyncio.Lock()
    return lock


@asynccontextmanager
async def turn() -> AsyncIterator[None]:
    """A chunk of long work: after the requests that were waiting, and after the chunks of
    other long work that asked first. Hold it for no await: it is the loop's one turn."""
    lock = _turn_of(asyncio.get_running_loop())
    # Twice: a callback made ready once asks the loop for a turn, then runs in the next
    # iteration before the I/O that arrived meanwhile; the second ask lets that I/O go first.
    await asyncio.sleep(0)
    await asyncio.sleep(0)
    async with lock:
        yield


async def map_in_turns(
    function: Callable[[Item], Result], items: Sequence[Item], per_turn: int = ITEMS_PER_TURN
) -> list[Result]:
    """`[function(item) for item in items]`; past `per_turn` items, `per_turn` a turn."""
    if len(items) <= per_turn:
        return list(map(function, items))
    results: list[Result] = []
    for start in range(0, len(items), per_turn):
        async with turn():
            results.extend(map(function, items[start : start + per_turn]))
    return results


async def chunks_in_turns(
    function: Callable[[int, Sequence[Item]], Result],
    items: Sequence[Item],
    per_turn: int = ITEMS_PER_TURN,
) -> list[Result]:
    """`function(start, items[start : start + per_turn])` for each chunk, in order; past one
    chunk, a turn each."""
    return await map_in_turns(
        lambda start: function(start, items[start : start + per_turn]),
        range(0, len(items), per_turn),
        per_turn=1,
    )


async def take_turn() -> None:
    """Step aside for the requests and the turns waiting, before work that cannot be held in
    a turn (it awaits, or runs inside a driver)."""
    async with turn():
        pass


def turn_if(long: bool) -> AbstractAsyncContextManager[None]:
    """`turn()` for a chunk of long work; nothing for short work, which takes no turn."""
    return turn() if long else nullcontext()
