"""Per-principal admission: the in-flight cap, turns under contention, release however a
request ends."""

from __future__ import annotations

import asyncio

import pytest

from application.admission import Admission
from application.errors import TooManyRequests


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


async def hold(
    admission: Admission, principal: str, release: asyncio.Event, log: list[str]
) -> None:
    async with admission.turn(principal):
        log.append(principal)
        await release.wait()


async def settle() -> None:
    for _ in range(5):
        await asyncio.sleep(0)


async def test_past_the_in_flight_cap_a_request_is_refused_and_others_are_not() -> None:
    admission = Admission(max_in_flight=3, max_running=3)
    release, log = asyncio.Event(), list[str]()
    held = [asyncio.create_task(hold(admission, "ada", release, log)) for _ in range(3)]
    await settle()
    with pytest.raises(TooManyRequests):
        async with admission.turn("ada"):
            pass
    async with admission.turn("bob"):
        pass
    release.set()
    await asyncio.gather(*held)
    assert admission.in_flight("ada") == 0
    async with admission.turn("ada"):  # every slot was given back
        pass


async def test_alone_a_principal_runs_everything_it_has_in_flight() -> None:
    admission = Admission(max_in_flight=8, max_running=1, monotonic=Clock())
    release, log = asyncio.Event(), list[str]()
    held = [asyncio.create_task(hold(admission, "ada", release, log)) for _ in range(8)]
    await settle()
    assert log == ["ada"] * 8
    release.set()
    await asyncio.gather(*held)


async def test_beside_another_principal_a_busy_one_takes_turns_in_arrival_order() -> None:
    clock = Clock()
    admission = Admission(max_in_flight=8, max_running=1, monotonic=clock)
    async with admission.turn("bob"):  # bob is active lately
        pass
    log: list[str] = []
    releases = [asyncio.Event() for _ in range(3)]
    held = [asyncio.create_task(hold(admission, "ada", r, log)) for r in releases]
    await settle()
    assert log == ["ada"]  # one runs; two wait their turn
    async with admission.turn("bob"):  # bob is not held up by ada's queue
        pass
    releases[0].set()
    await settle()
    assert log == ["ada", "ada"]
    clock.now += 5  # bob has gone quiet: ada's rest runs at once
    releases[1].set()
    await settle()
    assert log == ["ada"] * 3
    releases[2].set()
    await asyncio.gather(*held)
    assert admission.in_flight("ada") == 0


async def test_a_request_cancelled_or_failing_gives_its_slot_back() -> None:
    admission = Admission(max_in_flight=2, max_running=1, monotonic=Clock())
    async with admission.turn("bob"):
        release, log = asyncio.Event(), list[str]()
        running = asyncio.create_task(hold(admission, "ada", release, log))
        waiting = asyncio.create_task(hold(admission, "ada", release, log))
        await settle()
        waiting.cancel()  # cancelled while waiting its turn
        await settle()
        running.cancel()  # cancelled while running
        await settle()
    assert admission.in_flight("ada") == 0
    with pytest.raises(ValueError, match="the request failed"):
        async with admission.turn("ada"):
            raise ValueError("the request failed")
    assert admission.in_flight("ada") == 0


async def test_beside_another_principal_a_busy_ones_next_turn_waits_out_a_pause() -> None:
    clock = Clock()
    admission = Admission(max_in_flight=8, max_running=1, pause=1.0, monotonic=clock)
    async with admission.turn("bob"):
        pass
    log: list[str] = []
    releases = [asyncio.Event() for _ in range(2)]
    held = [asyncio.create_task(hold(admission, "ada", r, log)) for r in releases]
    await settle()
    clock.now += 0.05  # the first ran for 50 ms...
    releases[0].set()
    await settle()
    assert log == ["ada"]  # ...so the next waits 50 ms more
    # Resting, the ended request no longer counts in flight: a client that waited for its
    # answer may send the next one at once.
    assert admission.in_flight("ada") == 1
    await asyncio.sleep(0.1)
    assert log == ["ada", "ada"]
    releases[1].set()
    await asyncio.gather(*held)
    assert admission.in_flight("ada") == 0


async def test_a_light_request_counts_in_flight_but_never_waits_its_turn() -> None:
    """Single reads and movements are not gated: beside another principal they run at once
    even while the principal's heavy turn is taken, yet still count against the in-flight cap."""
    clock = Clock()
    admission = Admission(max_in_flight=3, max_running=1, monotonic=clock)
    async with admission.turn("bob"):  # bob is active lately
        pass
    log: list[str] = []
    release = asyncio.Event()
    heavy = asyncio.create_task(hold(admission, "ada", release, log))
    await settle()
    async with admission.turn("ada", gated=False):
        log.append("light")
        assert admission.in_flight("ada") == 2
        async with admission.turn("ada", gated=False):
            with pytest.raises(TooManyRequests):
                async with admission.turn("ada", gated=False):
                    pass
    assert log == ["ada", "light"]
    release.set()
    await heavy
    assert admission.in_flight("ada") == 0
