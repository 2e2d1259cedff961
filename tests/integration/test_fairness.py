"""Fairness, against a real `hexbank serve` process: one user's many requests must not take
the service from everyone else (issue 19). What is checked here is what happens, never how
fast: the speed targets (another user's p99 under one user's M4 loads, another address's
login median in an L1 login storm, each within 3x of at rest) are `make bench`'s h).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from uuid import UUID

import asyncpg
import httpx
import pytest

from tests.integration.test_processes import app_process, customer
from tests.postgres import connect
from tests.waiting import eventually

pytestmark = pytest.mark.integration


@asynccontextmanager
async def locked_from_outside(
    database_url: str, account_id: str
) -> AsyncIterator[asyncpg.Connection]:
    """The account's row locked by another connection until the block ends: what moves it
    stays in flight, waiting on the lock, and the block waits until one does."""
    holder = await connect(database_url)
    lock = holder.transaction()
    await lock.start()
    try:
        await holder.execute("SELECT 1 FROM accounts WHERE id = $1 FOR UPDATE", UUID(account_id))
        yield holder
    finally:
        await lock.rollback()
        await holder.close()


async def _waiting_on_a_lock(holder: asyncpg.Connection) -> bool:
    """Whether one of the server's statements waits on a row lock."""
    return bool(
        await holder.fetchval(
            "SELECT count(*) FROM pg_stat_activity"
            " WHERE application_name = 'hexbank' AND wait_event_type = 'Lock'"
        )
    )


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
            async with locked_from_outside(database_url, source) as holder:
                held = [
                    asyncio.create_task(http.post("/api/v1/transfers", json=body, headers=ada))
                    for _ in range(16)
                ]

                await eventually(
                    lambda: _waiting_on_a_lock(holder), "a transfer to wait on the lock"
                )
                await asyncio.sleep(2)  # the other 15, queued behind it, reach the server too
                assert not any(task.done() for task in held)

                refused = await http.get(f"/api/v1/accounts/{source}", headers=ada)
                served = await http.get(f"/api/v1/accounts/{destination}", headers=bob)
            statuses = [response.status_code for response in await asyncio.gather(*held)]

            assert refused.status_code == 429, refused.text
            assert refused.headers["content-type"] == "application/problem+json"
            assert refused.json()["type"].endswith("/too-many-requests")
            assert int(refused.headers["retry-after"]) >= 1
            assert refused.headers["ratelimit-limit"] == "16"
            assert refused.headers["ratelimit-remaining"] == "0"
            assert served.status_code == 200, served.text
            assert statuses == [201] * 16
            # Every slot was given back: Ada is served again.
            again = await http.get(f"/api/v1/accounts/{source}", headers=ada)
            assert again.status_code == 200


async def test_a_busy_users_heavy_request_waits_its_turn_while_anothers_read_is_served(
    database_url: str, tmp_path: Path
) -> None:
    """HEXBANK_MAX_RUNNING_PER_USER=1 (the default): while Bob is active, Ada's second heavy
    request (a search) waits for her first (a batch, held on a row lock) to end; Bob's read
    is served meanwhile, and Ada's search is answered once her batch is."""
    with app_process(database_url, tmp_path, HEXBANK_DB_LOCK_TIMEOUT_MS="9000") as (_, base):
        async with httpx.AsyncClient(base_url=base, timeout=60) as http:
            ada, source = await customer(http, base, "turns-ada", 10**6)
            bob, account = await customer(http, base, "turns-bob", 0)
            batch = {
                "transfers": [
                    {
                        "from_account_id": source,
                        "to_account_id": account,
                        "amount": 1,
                        "currency": "EUR",
                    }
                ]
            }
            async with locked_from_outside(database_url, source) as holder:
                first = asyncio.create_task(
                    http.post("/api/v1/transfers/batch", json=batch, headers=ada)
                )
                await eventually(lambda: _waiting_on_a_lock(holder), "Ada's batch to wait")
                served = await http.get(f"/api/v1/accounts/{account}", headers=bob)
                search = asyncio.create_task(http.get("/api/v1/transfers", headers=ada))
                await asyncio.sleep(1)  # a search of a few rows takes milliseconds
                served_again = await http.get(f"/api/v1/accounts/{account}", headers=bob)
                search_waited = not search.done()
            batched, searched = await asyncio.gather(first, search)

            assert served.status_code == 200, served.text
            assert served_again.status_code == 200, served_again.text
            assert search_waited
            assert batched.status_code == 200, batched.text
            assert batched.json()["results"][0]["status"] == 201
            assert searched.status_code == 200, searched.text


async def test_batches_into_one_account_queue_without_connections_while_a_bystander_is_served(
    database_url: str, tmp_path: Path
) -> None:
    """Eight payers' batches all pay into one merchant account. They wait their turn in the
    scheduler, holding no pooled connection, instead of each waiting on the merchant's row
    lock with one: with a pool of four that give up after half a second, a bystander who
    shares no account with them is never answered 503."""
    settings = {"HEXBANK_DB_POOL_SIZE": "4", "HEXBANK_DB_POOL_TIMEOUT_S": "0.5"}
    with app_process(database_url, tmp_path, **settings) as (_, base):
        async with httpx.AsyncClient(base_url=base, timeout=60) as http:
            _, merchant = await customer(http, base, "merchant", 0)
            payers = [await customer(http, base, f"payer-{n}", 10**6) for n in range(8)]
            bystander, own = await customer(http, base, "bystander", 10**6)
            _, other = await customer(http, base, "bystander-payee", 0)

            def batch(source: str) -> dict[str, object]:
                item = {"from_account_id": source, "to_account_id": merchant, "amount": 1}
                return {"transfers": [{**item, "currency": "EUR"}] * 300}

            async def pay(auth: dict[str, str], source: str) -> list[int]:
                answers = []
                for _ in range(3):
                    sent = await http.post(
                        "/api/v1/transfers/batch", json=batch(source), headers=auth
                    )
                    answers.append(sent.status_code)
                return answers

            async def stand_by() -> list[int]:
                statuses = []
                for n in range(40):
                    if n % 2:
                        answer = await http.get(f"/api/v1/accounts/{own}", headers=bystander)
                    else:
                        body = {
                            "from_account_id": own,
                            "to_account_id": other,
                            "amount": 1,
                            "currency": "EUR",
                        }
                        answer = await http.post("/api/v1/transfers", json=body, headers=bystander)
                    statuses.append(answer.status_code)
                return statuses

            paying = [asyncio.create_task(pay(auth, source)) for auth, source in payers]
            standing_by = await stand_by()
            batches = [status for answers in await asyncio.gather(*paying) for status in answers]
            received = await http.get(f"/api/v1/accounts/{merchant}", headers=payers[0][0])

    assert [s for s in standing_by if s >= 500] == [], standing_by
    assert set(standing_by) <= {200, 201}, standing_by
    assert batches.count(200) + batches.count(429) == len(batches), batches
    assert received.status_code in (200, 404)
