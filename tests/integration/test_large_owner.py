"""H2: one user with 6,000 accounts, each with a long name and 20 metadata values of 500
characters (about 11 KB of JSON each, 63 MB for all of them), against a real `hexbank serve`
process. No answer passes 1 MB, and 8 concurrent reads of the largest pages leave the
server's resident memory within 50 MiB of what it was."""

from __future__ import annotations

import asyncio
import random
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.integration.test_processes import app_process
from tests.postgres import connect

pytestmark = pytest.mark.integration

ACCOUNTS = 6_000
TRANSFERS = 600
MB = 1_000_000
MIB = 1024 * 1024

# Accounts, 600 transfers among them and an `account.opened` event per account, each as large
# as the API lets them be, written with SQL (the API would take minutes).
_FILL = f"""
WITH labels AS (
    SELECT jsonb_object_agg('key' || lpad(k::text, 2, '0'), repeat(chr(97 + k), 500)) AS metadata
    FROM generate_series(0, 19) AS k
)
INSERT INTO accounts (id, owner_id, kind, currency, balance, entry_count, created_at, name,
                      metadata)
SELECT gen_random_uuid(), $1, 'customer', 'EUR', 0, 0,
       now() - make_interval(secs => n), repeat('n', 80), labels.metadata
FROM generate_series(1, {ACCOUNTS}) AS n, labels;

WITH mine AS (SELECT id, row_number() OVER (ORDER BY id) AS n, metadata FROM accounts
              WHERE owner_id = $1)
INSERT INTO transfers (id, from_account_id, to_account_id, amount, currency, description,
                       created_at, kind, status, posted_amount, reference, metadata, created_by)
SELECT gen_random_uuid(), a.id, b.id, 1, 'EUR', repeat('d', 140),
       now() - make_interval(secs => a.n), 'transfer', 'posted', 1,
       'ref-' || a.n || repeat('x', 50), a.metadata, $1
FROM mine AS a JOIN mine AS b ON b.n = a.n + 1
WHERE a.n <= {TRANSFERS};

INSERT INTO events (id, type, occurred_at, schema_version, data, accounts, user_ids)
SELECT gen_random_uuid(), 'account.opened', created_at, 1,
       jsonb_build_object('id', id, 'owner_id', owner_id, 'currency', currency, 'balance', 0,
                          'held', 0, 'available', 0, 'status', 'active', 'name', name,
                          'metadata', metadata, 'created_at', created_at),
       jsonb_build_array(jsonb_build_object('id', id, 'sequence', 0, 'balance', 0,
                                            'available', 0, 'owner_id', owner_id)),
       ARRAY[$1::uuid]
FROM accounts WHERE owner_id = $1;
"""


def resident_bytes(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no VmRSS")


async def fill(database_url: str, user_id: str) -> None:
    connection = await connect(database_url)
    try:
        for statement in _FILL.split(";\n\n"):
            await connection.execute(statement, user_id)
        await connection.execute("ANALYZE")
    finally:
        await connection.close()


async def test_a_user_with_6000_large_accounts_gets_bounded_answers_and_memory(
    database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HEXBANK_MAX_ACCOUNTS_PER_USER", str(2 * ACCOUNTS))
    with app_process(database_url, tmp_path) as (process, base):
        async with httpx.AsyncClient(base_url=base, timeout=60) as http:
            email = {"email": "h2@example.com", "password": "password1", "full_name": "H2"}
            user = (await http.post("/api/v1/users", json=email)).json()
            form = {
                "grant_type": "password",
                "username": email["email"],
                "password": email["password"],
            }
            token = (await http.post("/api/v1/auth/token", data=form)).json()["access_token"]
            auth = {"Authorization": f"Bearer {token}"}
            await fill(database_url, user["id"])

            largest: dict[str, int] = {}
            took: dict[str, float] = {}

            async def read(route: str, path: str, **params: Any) -> dict[str, Any]:
                started = time.perf_counter()
                given = {name: value for name, value in params.items() if value is not None}
                response = await http.get(path, params=given, headers=auth)
                took[route] = max(took.get(route, 0.0), time.perf_counter() - started)
                assert response.status_code == 200, response.text
                largest[route] = max(largest.get(route, 0), len(response.content))
                assert len(response.content) <= MB, (route, len(response.content))
                body: dict[str, Any] = response.json()
                return body

            # Every account, every transfer and every event, page by page, at the largest
            # page sizes: all there, and no answer over 1 MB.
            seen: list[str] = []
            cursor = None
            while True:
                page = await read("accounts", "/api/v1/accounts", limit=500, cursor=cursor)
                seen.extend(item["id"] for item in page["items"])
                if not (cursor := page["next_cursor"]):
                    break
            assert len(set(seen)) == len(seen) == ACCOUNTS
            found, cursor = 0, None
            while True:
                page = await read("search", "/api/v1/transfers", limit=100, cursor=cursor)
                found += len(page["items"])
                if not (cursor := page["next_cursor"]):
                    break
            assert found == TRANSFERS
            events, after = 0, None
            while True:
                page = await read("events", "/api/v1/events", limit=100, after=after)
                if not page["items"]:
                    break
                events += len(page["items"])
                after = page["next_cursor"]
            assert events == ACCOUNTS + 1  # and user.registered
            # Search and feed with nothing to find: the caller's 6,000 accounts are not loaded.
            await read("empty search", "/api/v1/transfers", kind="withdrawal")
            await read("empty feed", "/api/v1/events", after=after)
            await read("statement", f"/api/v1/accounts/{seen[0]}/entries", limit=100)

            # Eight readers of the largest pages at once, from many places in the lists.
            starts = await cursors(http, auth)
            before = resident_bytes(process.pid)
            peak = before
            stop = asyncio.Event()

            async def sample() -> None:
                nonlocal peak
                while not stop.is_set():
                    peak = max(peak, resident_bytes(process.pid))
                    await asyncio.sleep(0.005)

            async def reader(n: int) -> None:
                rng = random.Random(n)
                for _ in range(12):
                    await read("accounts", "/api/v1/accounts", limit=500, cursor=rng.choice(starts))
                    await read("search", "/api/v1/transfers", limit=100)
                    await read("events", "/api/v1/events", limit=100)

            sampler = asyncio.create_task(sample())
            await asyncio.gather(*(reader(n) for n in range(8)))
            stop.set()
            await sampler
            peak = max(peak, resident_bytes(process.pid))

    growth = peak - before
    report = ", ".join(
        f"{route} {largest[route]} B in {took[route] * 1000:.0f} ms" for route in took
    )
    print(f"\nlargest answers: {report}; RSS {before / MIB:.0f} -> {peak / MIB:.0f} MiB")
    assert growth <= 50 * MIB, f"RSS grew by {growth / MIB:.1f} MiB ({report})"


async def cursors(http: httpx.AsyncClient, auth: dict[str, str]) -> list[str | None]:
    """Cursors spread over the list of accounts (small pages, cheap to walk)."""
    found: list[str | None] = [None]
    cursor = None
    for _ in range(30):
        params = {"limit": 200, **({"cursor": cursor} if cursor else {})}
        page = (await http.get("/api/v1/accounts", params=params, headers=auth)).json()
        cursor = page["next_cursor"]
        if cursor is None:
            break
        found.append(cursor)
    return found
