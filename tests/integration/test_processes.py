"""Real `hexbank serve` processes: two on one database, and a SIGTERM under load."""

from __future__ import annotations

import asyncio
import os
import random
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from tests.fakes import TEST_SECRET, TEST_STATEMENT_KEY
from tests.ports import free_port
from tests.postgres import connect
from tests.waiting import eventually, wait_until

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[2]


def answers_ready(process: subprocess.Popen[bytes] | subprocess.Popen[str], base: str) -> bool:
    """Whether the server answers /health/ready with 200; fails at once if it has exited."""
    assert process.poll() is None, f"the server exited with status {process.returncode}"
    try:
        return httpx.get(f"{base}/health/ready", timeout=2).status_code == 200
    except httpx.TransportError:
        return False


def serve_env(database_url: str, data_dir: Path, **settings: str) -> dict[str, str]:
    """The environment of a test's `hexbank serve`: the test database, cheap hashing, quiet
    logs; `settings` are more environment variables."""
    return {
        **os.environ,
        "DATABASE_URL": database_url,
        "HEXBANK_JWT_SECRET": TEST_SECRET,
        "HEXBANK_STATEMENT_SIGNING_KEY": TEST_STATEMENT_KEY,
        "HEXBANK_DATA_DIR": str(data_dir),
        "HEXBANK_LOG_LEVEL": "warning",
        "HEXBANK_ARGON2_TIME_COST": "1",
        "HEXBANK_ARGON2_MEMORY_KIB": "64",
        "HEXBANK_REGISTRATIONS_PER_CLIENT": "10000",
        **settings,
    }


@contextmanager
def app_process(
    database_url: str, data_dir: Path, **settings: str
) -> Iterator[tuple[subprocess.Popen[bytes], str]]:
    """`hexbank serve` on a free port; `settings` are more environment variables."""
    port = free_port()
    env = serve_env(database_url, data_dir, **settings)
    process = subprocess.Popen(
        [sys.executable, "-m", "entrypoints.cli", "serve", "--port", str(port)], env=env, cwd=ROOT
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until(
            lambda: answers_ready(process, base),
            f"`hexbank serve` to be ready on {base}",
            within_s=90,  # a loaded 2-core machine imports and migrates slowly
        )
        yield process, base
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            process.wait(timeout=30)


async def customer(
    http: httpx.AsyncClient, base: str, name: str, funds: int
) -> tuple[dict[str, str], str]:
    email = f"{name}@example.com"
    await http.post(
        f"{base}/api/v1/users", json={"email": email, "password": "password1", "full_name": name}
    )
    token = (
        await http.post(
            f"{base}/api/v1/auth/token",
            data={"grant_type": "password", "username": email, "password": "password1"},
        )
    ).json()
    auth = {"Authorization": f"Bearer {token['access_token']}"}
    account = (
        await http.post(f"{base}/api/v1/accounts", json={"currency": "EUR"}, headers=auth)
    ).json()["id"]
    if funds:
        await http.post(
            f"{base}/api/v1/accounts/{account}/deposits", json={"amount": funds}, headers=auth
        )
    return auth, account


async def books(database_url: str) -> tuple[int, int, int]:
    """(customer money, entries total, transfers) straight from the tables."""
    connection = await connect(database_url)
    try:
        held = await connection.fetchval(
            "SELECT coalesce(sum(balance), 0) FROM accounts WHERE kind = 'customer'"
        )
        entries = await connection.fetchval("SELECT coalesce(sum(amount), 0) FROM ledger_entries")
        transfers = await connection.fetchval(
            "SELECT count(*) FROM transfers WHERE description = 'load'"
        )
        mismatched = await connection.fetchval(
            "SELECT count(*) FROM accounts a WHERE a.balance <> coalesce("
            "(SELECT sum(amount) FROM ledger_entries e WHERE e.account_id = a.id), 0)"
        )
        assert mismatched == 0
        return int(held), int(entries), int(transfers)
    finally:
        await connection.close()


async def test_two_processes_on_one_database_keep_every_invariant(
    database_url: str, tmp_path: Path
) -> None:
    with (
        app_process(database_url, tmp_path) as (_, first),
        app_process(database_url, tmp_path) as (_, second),
    ):
        async with httpx.AsyncClient(timeout=30) as http:
            people = [await customer(http, first, f"p{n}", 5_000) for n in range(6)]
            rng = random.Random(3)
            gate = asyncio.Semaphore(16)

            async def transfer(n: int) -> int:
                (auth, source), (_, destination) = rng.sample(people, 2)
                base = (first, second)[n % 2]
                body = {
                    "from_account_id": source,
                    "to_account_id": destination,
                    "amount": rng.randint(1, 3_000),
                    "currency": "EUR",
                    "description": "load",
                }
                async with gate:
                    return (
                        await http.post(f"{base}/api/v1/transfers", json=body, headers=auth)
                    ).status_code

            statuses = await asyncio.gather(*(transfer(n) for n in range(200)))
    assert set(statuses) <= {201, 422}, statuses
    held, entries, transfers = await books(database_url)
    assert (held, entries, transfers) == (6 * 5_000, 0, statuses.count(201))


async def test_sigterm_under_load_finishes_what_it_accepted(
    database_url: str, tmp_path: Path
) -> None:
    with app_process(database_url, tmp_path) as (process, base):
        async with httpx.AsyncClient(timeout=30) as http:
            (auth, source), (_, destination) = [
                await customer(http, base, n, 10**6 if n == "a" else 0) for n in ("a", "b")
            ]
            body = {
                "from_account_id": source,
                "to_account_id": destination,
                "amount": 1,
                "currency": "EUR",
                "description": "load",
            }
            accepted: list[str] = []
            failed = 0
            in_flight = 0
            stop = asyncio.Event()

            async def post() -> httpx.Response:
                nonlocal in_flight
                in_flight += 1
                try:
                    return await http.post(f"{base}/api/v1/transfers", json=body, headers=auth)
                finally:
                    in_flight -= 1

            async def client_loop() -> None:
                nonlocal failed
                while not stop.is_set():
                    try:
                        response = await post()
                    except httpx.TransportError:
                        failed += 1
                        await asyncio.sleep(0.05)  # the server is going away: do not spin
                        continue
                    assert response.status_code in (201, 503), response.text
                    if response.status_code == 201:
                        accepted.append(response.json()["id"])

            loops = [asyncio.create_task(client_loop()) for _ in range(16)]

            def going_through() -> bool:
                for loop in loops:
                    if loop.done():
                        loop.result()  # a client loop ends early only on an error: raise it
                return len(accepted) >= 2 * len(loops)

            # Under load: transfers are going through, and more are on their way.
            await eventually(
                going_through,
                lambda: f"{2 * len(loops)} transfers to go through, not {len(accepted)}",
            )
            in_flight_at_signal = in_flight
            process.send_signal(signal.SIGTERM)
            exit_code = await asyncio.to_thread(process.wait, 30)
            stop.set()
            await asyncio.gather(*loops)

    assert exit_code == 0
    assert in_flight_at_signal > 0, "no request was in flight when the signal came"
    connection = await connect(database_url)
    try:
        stored = {
            str(row["id"])
            for row in await connection.fetch("SELECT id FROM transfers WHERE description = 'load'")
        }
    finally:
        await connection.close()
    assert set(accepted) <= stored  # every 201 is in the books...
    held, entries, _ = await books(database_url)
    assert (held, entries) == (10**6, 0)  # ...and nothing is half done
