"""The minimal transfer: b)'s bar for the hot spot, the least a correct transfer can do.

One transaction per transfer: `SELECT ... FOR UPDATE` of both account rows in id order, two
balance updates, one insert of a transfer row, commit; no ledger entries, no events, no
idempotency. On tables of its own (schema `minimal`: accounts(id, balance) and
transfers(id, from_id, to_id, amount)), so it never touches hexbank's, holding the same
account ids. Run as its own process:
`python -m bench.minimal_transfer DSN ACCOUNTS_FILE CONNECTIONS SECONDS` prints one JSON line.
"""

from __future__ import annotations

import asyncio
import random
import sys
import time
import uuid

import asyncpg

from bench.db_limit import drive

SCHEMA = """
CREATE SCHEMA IF NOT EXISTS minimal;
CREATE TABLE IF NOT EXISTS minimal.accounts (id uuid PRIMARY KEY, balance bigint NOT NULL);
CREATE TABLE IF NOT EXISTS minimal.transfers (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    from_id uuid NOT NULL,
    to_id uuid NOT NULL,
    amount bigint NOT NULL
);
"""
BALANCE = 10**9


async def prepare(connection: asyncpg.Connection, accounts: list[uuid.UUID]) -> None:
    """The tables, and the accounts at a balance no run can exhaust (kept between runs)."""
    await connection.execute(SCHEMA)
    await connection.executemany(
        "INSERT INTO minimal.accounts (id, balance) VALUES ($1, $2) ON CONFLICT (id) DO NOTHING",
        [(account, BALANCE) for account in accounts],
    )


async def worker(
    pool: asyncpg.Pool,
    accounts: list[uuid.UUID],
    deadline: float,
    latencies: list[float],
    errors: list[str],
) -> None:
    async with pool.acquire() as connection:
        lock = await connection.prepare(
            "SELECT id, balance FROM minimal.accounts WHERE id = ANY($1::uuid[])"
            " ORDER BY id FOR UPDATE"
        )
        move = await connection.prepare("UPDATE minimal.accounts SET balance = $2 WHERE id = $1")
        add_transfer = await connection.prepare(
            "INSERT INTO minimal.transfers (from_id, to_id, amount) VALUES ($1, $2, $3)"
        )
        while time.perf_counter() < deadline:
            source, destination = random.sample(accounts, 2)
            amount = random.randint(1, 100)
            started = time.perf_counter()
            try:
                async with connection.transaction():
                    balances = {
                        row["id"]: row["balance"] for row in await lock.fetch([source, destination])
                    }
                    if balances[source] < amount:
                        raise ValueError("insufficient funds")
                    await move.fetch(source, balances[source] - amount)
                    await move.fetch(destination, balances[destination] + amount)
                    await add_transfer.fetch(source, destination, amount)
            except Exception as error:  # counted, as a client would
                errors.append(type(error).__name__)
                continue
            latencies.append(time.perf_counter() - started)


async def main(dsn: str, accounts_file: str, connections: int, seconds: float) -> None:
    await drive(dsn, accounts_file, connections, seconds, worker, prepare)


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4])))
