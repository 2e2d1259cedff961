"""The database limit: the same transfer as raw SQL on asyncpg, no HTTP, no framework.

Locks both rows in id order, two updates, three inserts, commit; each entry hash-chained
(domain/chain.py) from the head hash the lock read, as hexbank's write path does. Run as its own process:
`python -m bench.db_limit DSN ACCOUNTS_FILE CONNECTIONS SECONDS` prints one JSON line.
"""

from __future__ import annotations

import asyncio
import json
import random
import sys
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

import asyncpg

from bench.seed import eur_entry_hash


async def worker(
    pool: asyncpg.Pool,
    accounts: list[uuid.UUID],
    deadline: float,
    latencies: list[float],
    errors: list[str],
) -> None:
    async with pool.acquire() as connection:
        lock = await connection.prepare(
            "SELECT id, balance, entry_count, head_hash FROM accounts WHERE id = ANY($1::uuid[])"
            " ORDER BY id FOR UPDATE"
        )
        move = await connection.prepare(
            "UPDATE accounts SET balance = $2, entry_count = $3, head_hash = $4 WHERE id = $1"
        )
        add_transfer = await connection.prepare(
            "INSERT INTO transfers (id, from_account_id, to_account_id, amount, currency, created_at,"
            " kind, status, posted_amount) VALUES ($1, $2, $3, $4, 'EUR', $5, 'transfer', 'posted', $4)"
        )
        add_entry = await connection.prepare(
            "INSERT INTO ledger_entries (id, account_id, transfer_id, sequence, amount,"
            " balance_after, created_at, entry_hash) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"
        )
        while time.perf_counter() < deadline:
            source, destination = random.sample(accounts, 2)
            amount = random.randint(1, 100)
            started = time.perf_counter()
            try:
                async with connection.transaction():
                    rows = {row["id"]: row for row in await lock.fetch([source, destination])}
                    now, transfer_id = datetime.now(UTC), uuid.uuid4()
                    src, dst = rows[source], rows[destination]
                    debit = _entry(src, transfer_id, -amount, now)
                    credit = _entry(dst, transfer_id, amount, now)
                    await move.fetch(source, debit[4], debit[2], debit[5])
                    await move.fetch(destination, credit[4], credit[2], credit[5])
                    await add_transfer.fetch(transfer_id, source, destination, amount, now)
                    await add_entry.fetch(uuid.uuid4(), *debit[:5], now, debit[5])
                    await add_entry.fetch(uuid.uuid4(), *credit[:5], now, credit[5])
            except Exception as error:  # counted, as a client would
                errors.append(type(error).__name__)
                continue
            latencies.append(time.perf_counter() - started)


def _entry(
    account: asyncpg.Record, transfer_id: uuid.UUID, amount: int, now: datetime
) -> tuple[uuid.UUID, uuid.UUID, int, int, int, bytes]:
    """(account, transfer, sequence, amount, balance_after, entry_hash) of the next entry."""
    sequence, balance_after = account["entry_count"] + 1, account["balance"] + amount
    entry_hash = eur_entry_hash(
        bytes(account["head_hash"]),
        account["id"],
        sequence,
        transfer_id,
        amount,
        balance_after,
        now,
        "transfer",
    )
    return account["id"], transfer_id, sequence, amount, balance_after, entry_hash


Worker = Callable[[asyncpg.Pool, list[uuid.UUID], float, list[float], list[str]], Awaitable[None]]


async def drive(
    dsn: str,
    accounts_file: str,
    connections: int,
    seconds: float,
    run: Worker,
    prepare: Callable[[asyncpg.Connection, list[uuid.UUID]], Awaitable[None]] | None = None,
) -> None:
    """Run `connections` workers for `seconds` over the accounts listed in `accounts_file`,
    and print what they did as one JSON line (requests, duration, p50, p99, errors)."""
    with open(accounts_file) as source:
        accounts = [uuid.UUID(line.strip()) for line in source if line.strip()]
    pool = await asyncpg.create_pool(dsn, min_size=connections, max_size=connections)
    if prepare is not None:
        async with pool.acquire() as connection:
            await prepare(connection, accounts)
    latencies: list[float] = []
    errors: list[str] = []
    started = time.perf_counter()
    await asyncio.gather(
        *(run(pool, accounts, started + seconds, latencies, errors) for _ in range(connections))
    )
    elapsed = time.perf_counter() - started
    await pool.close()
    latencies.sort()
    print(
        json.dumps(
            {
                "requests": len(latencies),
                "duration_s": elapsed,
                "p50_ms": latencies[len(latencies) // 2] * 1e3,
                "p99_ms": latencies[int(0.99 * len(latencies))] * 1e3,
                "errors": len(errors),
            }
        )
    )


async def main(dsn: str, accounts_file: str, connections: int, seconds: float) -> None:
    await drive(dsn, accounts_file, connections, seconds, worker)


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4])))
