"""h) fairness (issue 19: M4, L1): user B's latency at rest and while user A loads the server,
measured in the same run. A's loads run in processes of their own, so B's latencies are not
the measuring client's own event loop's queue. M4 alternates slices at rest and under load
(the load paused and resumed), so the machine's other work weighs on both sides alike; L1
alternates rounds at rest and in A's login storm."""

from __future__ import annotations

import asyncio
import multiprocessing
import statistics
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from multiprocessing.synchronize import Event as ProcessEvent
from typing import Any

import httpx

# B logs in from another loopback address than A's storm: the token limits are per address.
B_ADDRESS = "127.0.0.2"
SETTLE_S = 0.5
STORM_LOOPS = 32
BATCH_ITEMS = 1000
METADATA_KEYS = 20
# A's loads, by name: how many of A's requests are kept in flight, and which.
M4_LOADS = {
    "search pages": 16,
    "searches matching nothing": 16,
    "sparse event types": 16,
    f"{BATCH_ITEMS:,}-item batches, {METADATA_KEYS} metadata keys": 4,
}


@dataclass
class Sampled:
    """One side of a comparison: each of B's requests' seconds and its answers' statuses."""

    seconds: list[float] = field(default_factory=list)
    statuses: list[int] = field(default_factory=list)

    def __iadd__(self, other: Sampled) -> Sampled:
        self.seconds += other.seconds
        self.statuses += other.statuses
        return self

    @property
    def p50_ms(self) -> float:
        return statistics.median(self.seconds) * 1000

    @property
    def p99_ms(self) -> float:
        return statistics.quantiles(self.seconds, n=100)[98] * 1000

    @property
    def non_2xx(self) -> int:
        return sum(not 200 <= status < 300 for status in self.statuses)

    @property
    def server_errors(self) -> int:
        return sum(status >= 500 for status in self.statuses)


@dataclass
class Comparison:
    """B's requests at rest and under one of A's loads, in the same run."""

    load: str
    at_rest: Sampled
    loaded: Sampled


async def timed(call: Callable[[], Awaitable[httpx.Response]], count: int) -> Sampled:
    """`count` sequential calls, each one's seconds and status."""
    sampled = Sampled()
    for _ in range(count):
        started = time.perf_counter()
        response = await call()
        sampled.seconds.append(time.perf_counter() - started)
        sampled.statuses.append(response.status_code)
    return sampled


async def _until(condition: Callable[[], bool], what: str, within_s: float = 60) -> None:
    deadline = time.monotonic() + within_s
    while not condition():
        if time.monotonic() > deadline:
            raise RuntimeError(f"h) fairness: waited {within_s:.0f} s for {what}")
        await asyncio.sleep(0.02)


def _stopped(process: Any, stop: Any, go: Any | None = None) -> None:
    stop.set()
    if go is not None:
        go.set()  # a paused load sees `stop` only when it runs
    process.join(90)
    if process.is_alive():
        process.kill()
        process.join()


# --- A's loads, each in a process of its own ---------------------------------------------


def _run_m4_load(
    kind: str, base: str, token: str, accounts: list[str], go: Any, ready: Any, stop: Any, busy: Any
) -> None:
    asyncio.run(_m4_load(kind, base, token, accounts, go, ready, stop, busy))


async def _m4_load(
    kind: str,
    base: str,
    token: str,
    accounts: list[str],
    go: ProcessEvent,
    ready: ProcessEvent,
    stop: ProcessEvent,
    busy: Any,
) -> None:
    """A's load, running while `go` is set, idle while it is clear, until `stop`; `ready`
    once a first request was answered; `busy` counts its requests in flight."""
    source, destination = accounts
    metadata = {f"key{n:02}": f"value-{n:02}" for n in range(METADATA_KEYS)}
    batch = {
        "transfers": [
            {
                "from_account_id": source,
                "to_account_id": destination,
                "amount": 1,
                "currency": "EUR",
                "metadata": metadata,
            }
            for _ in range(BATCH_ITEMS)
        ]
    }
    requests: dict[str, Callable[[httpx.AsyncClient], Awaitable[httpx.Response]]] = {
        "search pages": lambda http: http.get("/api/v1/transfers", params={"limit": 100}),
        "searches matching nothing": lambda http: http.get(
            "/api/v1/transfers", params={"kind": "withdrawal"}
        ),
        "sparse event types": lambda http: http.get(
            "/api/v1/events", params={"type": "account.closed"}
        ),
        f"{BATCH_ITEMS:,}-item batches, {METADATA_KEYS} metadata keys": lambda http: http.post(
            "/api/v1/transfers/batch", json=batch
        ),
    }
    request = requests[kind]
    async with httpx.AsyncClient(
        base_url=base,
        headers={"Authorization": f"Bearer {token}"},
        timeout=60,
        limits=httpx.Limits(max_connections=64),
    ) as http:

        async def worker() -> None:
            while not stop.is_set():
                if not go.is_set():
                    await asyncio.sleep(0.01)
                    continue
                with busy.get_lock():
                    busy.value += 1
                try:
                    await request(http)
                finally:
                    with busy.get_lock():
                        busy.value -= 1
                ready.set()

        await asyncio.gather(*(worker() for _ in range(M4_LOADS[kind])))


def _run_login_storm(base: str, email: str, password: str, ready: Any, stop: Any) -> None:
    asyncio.run(_login_storm(base, email, password, ready, stop))


async def _login_storm(
    base: str, email: str, password: str, ready: ProcessEvent, stop: ProcessEvent
) -> None:
    """STORM_LOOPS loops of correct logins from 127.0.0.1, never waiting for Retry-After."""
    form = {"grant_type": "password", "username": email, "password": password}
    async with httpx.AsyncClient(
        base_url=base, timeout=60, limits=httpx.Limits(max_connections=64)
    ) as http:

        async def loop() -> None:
            while True:
                await http.post("/api/v1/auth/token", data=form)
                ready.set()

        # Stopped by cancelling: the address's refusals take turns, each held a second, so
        # waiting for the answers in flight would take half a minute.
        loops = [asyncio.create_task(loop()) for _ in range(STORM_LOOPS)]
        await asyncio.to_thread(stop.wait)
        for task in loops:
            task.cancel()
        await asyncio.gather(*loops, return_exceptions=True)


# --- B's side ----------------------------------------------------------------------------


async def reads_beside_m4_load(
    base: str,
    kind: str,
    a_token: str,
    a_accounts: list[str],
    b_token: str,
    b_account: str,
    slices: int,
    samples: int,
) -> Comparison:
    """B's GET account, `slices` times at rest then under A's `kind`, `samples` each time."""
    context = multiprocessing.get_context("spawn")
    async with httpx.AsyncClient(
        base_url=base, timeout=60, headers={"Authorization": f"Bearer {b_token}"}
    ) as http:

        def read() -> Awaitable[httpx.Response]:
            return http.get(f"/api/v1/accounts/{b_account}")

        await timed(read, samples)  # warm: the connection, the token's user
        go, ready, stop = context.Event(), context.Event(), context.Event()
        busy = context.Value("i", 0)
        load = context.Process(
            target=_run_m4_load,
            args=(kind, base, a_token, a_accounts, go, ready, stop, busy),
        )
        load.start()
        at_rest, loaded = Sampled(), Sampled()
        try:
            go.set()
            await _until(ready.is_set, f"A's {kind} to be under way")
            for _ in range(slices):
                go.clear()
                await _until(lambda: busy.value == 0, "A's requests to end")
                await asyncio.sleep(SETTLE_S)  # and what they left behind (the relay)
                at_rest += await timed(read, samples)
                go.set()
                await asyncio.sleep(SETTLE_S)  # A's load is under way again
                loaded += await timed(read, samples)
        finally:
            await asyncio.to_thread(_stopped, load, stop, go)
    return Comparison(kind, at_rest, loaded)


async def logins_beside_login_storm(
    base: str, a_email: str, b_email: str, password: str, rounds: int, samples: int
) -> Comparison:
    """B's logins from B_ADDRESS, `rounds` times `samples` at rest then in A's storm from
    127.0.0.1. B's address allows 60 token attempts a minute: rounds * 2 * samples + 2 must fit."""
    context = multiprocessing.get_context("spawn")
    form = {"grant_type": "password", "username": b_email, "password": password}
    async with httpx.AsyncClient(
        base_url=base,
        timeout=60,
        transport=httpx.AsyncHTTPTransport(local_address=B_ADDRESS),
    ) as http:

        def login() -> Awaitable[httpx.Response]:
            return http.post("/api/v1/auth/token", data=form)

        await timed(login, 2)  # warm
        at_rest, stormy = Sampled(), Sampled()
        for _ in range(rounds):
            at_rest += await timed(login, samples)
            ready, stop = context.Event(), context.Event()
            storm = context.Process(
                target=_run_login_storm, args=(base, a_email, password, ready, stop)
            )
            storm.start()
            try:
                await _until(ready.is_set, "A's login storm to be under way")
                stormy += await timed(login, samples)
            finally:
                await asyncio.to_thread(_stopped, storm, stop)
            await asyncio.sleep(2 * SETTLE_S)  # the storm's last refusals, held a second
    return Comparison("A's login storm", at_rest, stormy)
