"""Long loops take turns: a request waiting behind a 1,000-item batch waits for one turn, not
for the batch, and two long loops alternate turn by turn (issue 19's fairness)."""

import asyncio
from collections.abc import Callable

import pytest

from application.turns import _TURNS, ITEMS_PER_TURN, chunks_in_turns, map_in_turns, take_turn, turn


@pytest.mark.parametrize(
    "count", [0, 1, ITEMS_PER_TURN, ITEMS_PER_TURN + 1, 3 * ITEMS_PER_TURN + 7]
)
async def test_maps_every_item_in_order(count: int) -> None:
    items = list(range(count))
    assert await map_in_turns(lambda n: n * 2, items) == [n * 2 for n in items]


async def test_a_waiting_request_runs_after_at_most_one_turn() -> None:
    done: list[str] = []

    def item(n: int) -> int:
        done.append("item")
        return n

    async def request() -> None:
        done.append("request")

    mapping = asyncio.create_task(map_in_turns(item, list(range(10 * ITEMS_PER_TURN))))
    await asyncio.sleep(0)  # the map has begun
    await request()
    await mapping
    assert done.index("request") <= ITEMS_PER_TURN


async def test_two_long_loops_alternate_turn_by_turn() -> None:
    owners: list[str] = []

    def mapper(owner: str) -> Callable[[int], int]:
        def item(n: int) -> int:
            if n % ITEMS_PER_TURN == 0:
                owners.append(owner)
            return n

        return item

    turns = 4
    items = list(range(turns * ITEMS_PER_TURN))
    await asyncio.gather(map_in_turns(mapper("a"), items), map_in_turns(mapper("b"), items))
    assert owners == ["a", "b"] * turns


async def test_a_turn_is_one_at_a_time_and_take_turn_waits_for_it() -> None:
    events: list[str] = []

    async def holder() -> None:
        async with turn():
            events.append("held")
            # Nothing awaits inside a turn in the product; here it shows the exclusion.
            await asyncio.sleep(0.01)
            events.append("released")

    async def stepping_aside() -> None:
        await asyncio.sleep(0)
        await asyncio.sleep(0)
        await take_turn()
        events.append("after")

    await asyncio.gather(holder(), stepping_aside())
    assert events == ["held", "released", "after"]


def test_a_closed_loops_turn_is_dropped_when_another_loop_takes_one() -> None:
    async def contended() -> None:
        async def hold() -> None:
            async with turn():
                await asyncio.sleep(0.001)

        await asyncio.gather(hold(), hold())

    for _ in range(3):
        asyncio.run(contended())
    asyncio.run(contended())
    assert sum(not loop.is_closed() for loop in _TURNS) == 0
    assert len(_TURNS) <= 1


@pytest.mark.parametrize("count", [0, 1, ITEMS_PER_TURN, ITEMS_PER_TURN + 1, 3 * ITEMS_PER_TURN])
async def test_chunks_are_handed_over_in_order_with_where_they_start(count: int) -> None:
    items = list(range(count))
    chunks = await chunks_in_turns(lambda start, chunk: (start, list(chunk)), items)
    assert [item for _, chunk in chunks for item in chunk] == items
    assert all(chunk[0] == start for start, chunk in chunks)
    assert all(len(chunk) <= ITEMS_PER_TURN for _, chunk in chunks)
