"""Fairness, against a real `hexbank serve` process: one user's load, or one address's login
storm, must not take the service from everyone else (issue 19: M4, L1).

The loads run in processes of their own, so the measuring client's latencies are not its own
event loop's queue. Each comparison measures at rest and under load in the same run: M4 in
alternating slices (the load paused and resumed), so the machine's other work weighs on both
sides alike; L1 in two rounds, each of which must hold.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import statistics
import time
from collections.abc import Awaitable, Callable
from multiprocessing.synchronize import Event as ProcessEvent
from pathlib import Path
from typing import Any
from uuid import UUID

import httpx
import pytest

from tests.integration.test_processes import app_process, customer
from tests.postgres import connect
from tests.waiting import eventually

pytestmark = pytest.mark.integration

SLICES = 8
SLICE_SAMPLES = 100
SETTLE_S = 0.5
MAX_RATIO = 3.0
VICTIM_ADDRESS = "127.0.0.2"  # loopback, but another client address than the attacker's


def p99(samples: list[float]) -> float:
    return statistics.quantiles(samples, n=100)[98]


async def timed(
    call: Callable[[], Awaitable[httpx.Response]], count: int, expected: int
) -> list[float]:
    """`count` sequential calls, each one's seconds; every answer must be `expected`."""
    samples = []
    for _ in range(count):
        started = time.perf_counter()
        response = await call()
        samples.append(time.perf_counter() - started)
        assert response.status_code == expected, response.text[:300]
    return samples


# --- the loads, each in a process of its own ---------------------------------------------


def _run_load(
    kind: str,
    base: str,
    auth: dict[str, str],
    accounts: list[str],
    go: Any,
    ready: Any,
    stop: Any,
    busy: Any,
) -> None:
    asyncio.run(_load(kind, base, auth, accounts, go, ready, stop, busy))


async def _load(
    kind: str,
    base: str,
    auth: dict[str, str],
    accounts: list[str],
    go: ProcessEvent,
    ready: ProcessEvent,
    stop: ProcessEvent,
    busy: Any,
) -> None:
    """A's load, running while `go` is set, idle while it is clear, until `stop`; `ready`
    once a first request was answered; `busy` counts its requests in flight."""
    source, destination = accounts
    metadata = {f"key{n:02}": f"value-{n:02}" for n in range(20)}
    batch = {
        "transfers": [
            {
                "from_account_id": source,
                "to_account_id": destination,
                "amount": 1,
                "currency": "EUR",
                "metadata": metadata,
            }
            for _ in range(1000)
        ]
    }
    requests: dict[str, tuple[int, Callable[[httpx.AsyncClient], Awaitable[httpx.Response]]]] = {
        "search pages": (16, lambda http: http.get("/api/v1/transfers", params={"limit": 100})),
        "searches matching nothing": (
            16,
            lambda http: http.get("/api/v1/transfers", params={"kind": "withdrawal"}),
        ),
        "sparse event types": (
            16,
            lambda http: http.get("/api/v1/events", params={"type": "account.closed"}),
        ),
        "1,000-item batches, 20 metadata keys": (
            4,
            lambda http: http.post("/api/v1/transfers/batch", json=batch),
        ),
    }
    concurrency, request = requests[kind]
    async with httpx.AsyncClient(
        base_url=base, headers=auth, timeout=60, limits=httpx.Limits(max_connections=64)
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

        await asyncio.gather(*(worker() for _ in range(concurrency)))


# --- tests -----------------------------------------------------------------------------


async def test_the_17th_request_in_flight_of_one_user_is_refused_while_others_are_served(
    database_url: str, tmp_path: Path
) -> None:
    with app_process(database_url, tmp_path, HEXBANK_DB_LOCK_TIMEOUT_MS="9000") as (_, base):
        async with httpx.AsyncClient(base_url=base, timeout=60) as http:
            ada, source = await customer(http, base, "in-flight-ada", 10**6)
            bob, destination = await customer(http, base, "in-flight-bob", 0)
            body = {
                "from_account_id": source,
                "to_account_id": destination,
                "amount": 1,
                "currency": "EUR",
            }
            # Ada's source account locked from outside: her transfers stay in flight.
            holder = await connect(database_url)
            lock = holder.transaction()
            await lock.start()
            try:
                await holder.execute(
                    "SELECT 1 FROM accounts WHERE id = $1 FOR UPDATE", UUID(source)
                )
                held = [
                    asyncio.create_task(http.post("/api/v1/transfers", json=body, headers=ada))
                    for _ in range(16)
                ]

                async def waiting_on_the_lock() -> bool:
                    return bool(
                        await holder.fetchval(
                            "SELECT count(*) FROM pg_stat_activity"
                            " WHERE application_name = 'hexbank' AND wait_event_type = 'Lock'"
                        )
                    )

                await eventually(waiting_on_the_lock, "a transfer to wait on the lock")
                await asyncio.sleep(2)  # the other 15, queued behind it, reach the server too
                assert not any(task.done() for task in held)

                refused = await http.get(f"/api/v1/accounts/{source}", headers=ada)
                served = await http.get(f"/api/v1/accounts/{destination}", headers=bob)
            finally:
                await lock.rollback()
                await holder.close()
            statuses = [response.status_code for response in await asyncio.gather(*held)]

            assert refused.status_code == 429, refused.text
            assert refused.headers["content-type"] == "application/problem+json"
            assert refused.json()["type"].endswith("/too-many-requests")
            assert int(refused.headers["retry-after"]) >= 1
            assert served.status_code == 200, served.text
            assert statuses == [201] * 16
            # Every slot was given back: Ada is served again.
            again = await http.get(f"/api/v1/accounts/{source}", headers=ada)
            assert again.status_code == 200


@pytest.mark.parametrize(
    "kind",
    [
        "search pages",
        "searches matching nothing",
        "sparse event types",
        pytest.param(
            "1,000-item batches, 20 metadata keys",
            marks=pytest.mark.xfail(
                strict=True,
                reason="not met: a 1,000-item batch validates, decides, encodes and "
                "serializes in synchronous stretches of 100-300 ms on the event loop; another "
                "user's request that meets one waits it out (B's median is unchanged, its p99 "
                "5-8x at rest). It needs the batch path to yield between slices of items.",
            ),
        ),
    ],
)
async def test_one_users_heavy_load_leaves_anothers_reads_fast(
    database_url: str, tmp_path: Path, kind: str
) -> None:
    """M4: while user A runs one of M4's loads, user B's GET account p99 stays within 3x of
    its p99 at rest."""
    context = multiprocessing.get_context("spawn")
    with app_process(database_url, tmp_path) as (_, base):
        async with httpx.AsyncClient(base_url=base, timeout=60) as http:
            ada, source = await customer(http, base, "m4-ada", 10**9)
            bob, account = await customer(http, base, "m4-bob", 1000)
            destination = (
                await http.post("/api/v1/accounts", json={"currency": "EUR"}, headers=ada)
            ).json()["id"]
            history = {
                "transfers": [
                    {
                        "from_account_id": source,
                        "to_account_id": destination,
                        "amount": 1,
                        "currency": "EUR",
                    }
                    for _ in range(1000)
                ]
            }
            for _ in range(10):  # a history for A's searches to page through: 10,000 transfers
                response = await http.post("/api/v1/transfers/batch", json=history, headers=ada)
                assert response.status_code == 200, response.text[:300]

            def read() -> Awaitable[httpx.Response]:
                return http.get(f"/api/v1/accounts/{account}", headers=bob)

            await timed(read, 200, 200)  # warm: connections, caches, the token's user
            # At rest and under load in alternating slices, so the machine's other work
            # weighs on both alike; each side's p99 over all of its slices.
            go, ready, stop = context.Event(), context.Event(), context.Event()
            busy = context.Value("i", 0)
            load = context.Process(
                target=_run_load,
                args=(kind, base, ada, [source, destination], go, ready, stop, busy),
            )
            load.start()
            at_rest: list[float] = []
            loaded: list[float] = []
            try:
                go.set()
                await eventually(ready.is_set, f"A's {kind} to be under way", within_s=60)
                for _ in range(SLICES):
                    go.clear()
                    await eventually(lambda: busy.value == 0, "A's requests to end", within_s=60)
                    await asyncio.sleep(SETTLE_S)  # and what they left behind (the relay)
                    at_rest += await timed(read, SLICE_SAMPLES, 200)
                    go.set()
                    await asyncio.sleep(SETTLE_S)  # A's load is under way again
                    loaded += await timed(read, SLICE_SAMPLES, 200)
            finally:
                stop.set()
                go.set()
                await asyncio.to_thread(load.join, 90)
                if load.is_alive():
                    load.kill()
            ratio = p99(loaded) / p99(at_rest)
            figure = (
                f"{kind}: B's GET account p99 {p99(at_rest) * 1000:.1f} ms at rest, "
                f"{p99(loaded) * 1000:.1f} ms under load ({ratio:.2f}x); medians "
                f"{statistics.median(at_rest) * 1000:.1f} and "
                f"{statistics.median(loaded) * 1000:.1f} ms"
            )
            print(figure)
            assert ratio <= MAX_RATIO, figure


def _run_login_storm(base: str, email: str, ready: Any, stop: Any) -> None:
    asyncio.run(_login_storm(base, email, ready, stop))


async def _login_storm(base: str, email: str, ready: ProcessEvent, stop: ProcessEvent) -> None:
    """32 loops of correct logins from 127.0.0.1, never waiting for Retry-After."""
    async with httpx.AsyncClient(
        base_url=base, timeout=60, limits=httpx.Limits(max_connections=64)
    ) as http:

        async def loop() -> None:
            while not stop.is_set():
                await http.post(
                    "/api/v1/auth/token", data={"username": email, "password": "password1"}
                )
                ready.set()

        await asyncio.gather(*(loop() for _ in range(32)))


async def test_a_login_storm_from_one_address_leaves_anothers_logins_fast(
    database_url: str, tmp_path: Path
) -> None:
    """L1: one user's 32-way loop of correct logins (Argon2 at its default cost) leaves
    another user's login median, from another address, within 3x of its value at rest."""
    context = multiprocessing.get_context("spawn")
    with app_process(
        database_url,
        tmp_path,
        HEXBANK_ARGON2_TIME_COST="2",
        HEXBANK_ARGON2_MEMORY_KIB="19456",
    ) as (_, base):
        async with (
            httpx.AsyncClient(base_url=base, timeout=60) as http,
            httpx.AsyncClient(
                base_url=base,
                timeout=60,
                transport=httpx.AsyncHTTPTransport(local_address=VICTIM_ADDRESS),
            ) as victim,
        ):
            await customer(http, base, "storm-ada", 0)
            for name in ("storm-bob",):
                await victim.post(
                    "/api/v1/users",
                    json={
                        "email": f"{name}@example.com",
                        "password": "password1",
                        "full_name": name,
                    },
                )

            def login() -> Awaitable[httpx.Response]:
                return victim.post(
                    "/api/v1/auth/token",
                    data={"username": "storm-bob@example.com", "password": "password1"},
                )

            # The victim's own address allows 60 a minute: 2 rounds of 10 + 10, and 2 to warm.
            await timed(login, 2, 200)
            ratios, figures = [], []
            for _ in range(2):
                at_rest = statistics.median(await timed(login, 10, 200))
                ready, stop = context.Event(), context.Event()
                storm = context.Process(
                    target=_run_login_storm, args=(base, "storm-ada@example.com", ready, stop)
                )
                storm.start()
                try:
                    await eventually(ready.is_set, "the storm to be under way", within_s=60)
                    stormy = statistics.median(await timed(login, 10, 200))
                finally:
                    stop.set()
                    await asyncio.to_thread(storm.join, 90)
                    if storm.is_alive():
                        storm.kill()
                ratios.append(stormy / at_rest)
                figures.append(
                    f"login median {at_rest * 1000:.1f} ms at rest, {stormy * 1000:.1f} ms "
                    f"in the storm ({stormy / at_rest:.2f}x)"
                )
            print("\n".join(figures))
            assert max(ratios) <= MAX_RATIO, "\n".join(figures)
            # The storm's address is blocked within its 60 attempts a minute, with Retry-After.
            for _ in range(61):
                refused = await http.post(
                    "/api/v1/auth/token",
                    data={"username": "storm-ada@example.com", "password": "password1"},
                )
                if refused.status_code != 200:
                    break
            assert refused.status_code == 429, refused.text
            assert refused.json()["type"].endswith("/too-many-attempts")
            assert int(refused.headers["retry-after"]) >= 1
