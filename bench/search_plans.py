"""The query plans of transfer search at a million transfers, for docs/transfer-search.md.

`python -m bench.search_plans [DSN]` creates a scratch database on the given server (default:
the machine's PostgreSQL at 127.0.0.1:5432), migrates it, writes 1,000,000 transfers among
2,000 accounts with SQL (no entries: search reads transfers only), runs ANALYZE, prints
EXPLAIN (ANALYZE, BUFFERS) of the search statement for each filter with the statement's own
time (best of 3, without EXPLAIN), and drops the database.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
import uuid
from datetime import UTC, datetime

import asyncpg
from sqlalchemy.dialects.postgresql import asyncpg as asyncpg_dialect

from adapters.sqlalchemy import migrations
from adapters.sqlalchemy.ledger import _search
from application.ports.ledger import TransferQuery
from domain.transfer import TransferKind, TransferStatus

TRANSFERS = 1_000_000
ACCOUNTS = 2_000

_FILL = f"""
INSERT INTO users VALUES ('00000000-0000-0000-0000-000000000001', 'plans@example.com', 'Plans',
                          'x', true, now());
INSERT INTO accounts (id, owner_id, kind, currency, balance, entry_count, created_at)
SELECT ('00000000-0000-0000-0001-' || lpad(to_hex(n), 12, '0'))::uuid,
       '00000000-0000-0000-0000-000000000001', 'customer', 'EUR', 0, 0, now()
FROM generate_series(1, {ACCOUNTS}) AS n;
INSERT INTO transfers (id, from_account_id, to_account_id, amount, currency, created_at, kind,
                       status, posted_amount, expires_at, reference, metadata, created_by)
SELECT gen_random_uuid(),
       ('00000000-0000-0000-0001-' || lpad(to_hex(1 + n % {ACCOUNTS}), 12, '0'))::uuid,
       ('00000000-0000-0000-0001-' || lpad(to_hex(1 + (n * 7 + 1) % {ACCOUNTS}), 12, '0'))::uuid,
       1 + n % 1000, 'EUR', now() - make_interval(secs => n),
       CASE WHEN n % 50 = 25 THEN 'withdrawal' ELSE 'transfer' END,
       CASE WHEN n % 100 = 0 THEN 'pending' ELSE 'posted' END,
       CASE WHEN n % 100 = 0 THEN NULL ELSE 1 + n % 1000 END,
       CASE WHEN n % 200 = 0 THEN now() + interval '1 day' END,
       CASE WHEN n % 3 = 0 THEN 'ref-' || n END,
       jsonb_build_object('order', (n % 100000)::text),
       '00000000-0000-0000-0000-000000000001'
FROM generate_series(1, {TRANSFERS}) AS n;
ANALYZE;
"""


_OWNER = uuid.UUID("00000000-0000-0000-0000-000000000001")


def _account(n: int) -> uuid.UUID:
    return uuid.UUID(f"00000000-0000-0000-0001-{n:012x}")


async def _plans(dsn: str) -> None:
    connection = await asyncpg.connect(dsn)
    try:
        await connection.execute(_FILL)
        await connection.execute("SET jit = off")  # as on the app's connections
        now = datetime.now(UTC)
        one = (_account(17),)
        cases = {
            "an account, newest first (no filter)": TransferQuery(one, now, 51),
            "all of a user's accounts (here 5)": TransferQuery(
                tuple(_account(n) for n in range(1, 6)), now, 51
            ),
            f"all of the owner's accounts, found by the database (here {ACCOUNTS:,})": (
                TransferQuery((), now, 51, owner_id=_OWNER)
            ),
            "reference": TransferQuery(one, now, 51, reference="ref-4002"),
            "metadata[order]": TransferQuery(one, now, 51, metadata={"order": "4017"}),
            "kind=withdrawal": TransferQuery(one, now, 51, kind=TransferKind.WITHDRAWAL),
            "kind=reversal (matches nothing)": TransferQuery(
                one, now, 51, kind=TransferKind.REVERSAL
            ),
            "status=pending": TransferQuery(one, now, 51, status=TransferStatus.PENDING),
            "status=voided (matches nothing)": TransferQuery(
                one, now, 51, status=TransferStatus.VOIDED
            ),
            "created_before, a page deep in the past": TransferQuery(
                one, now, 51, created_before=now.replace(year=now.year - 1)
            ),
        }
        for title, query in cases.items():
            dialect = asyncpg_dialect.dialect()  # type: ignore[no-untyped-call]
            statement, bound = _search(query)
            compiled = statement.compile(dialect=dialect)
            params = compiled.construct_params(bound)
            values = [
                json.dumps(value) if isinstance(value, dict) else value
                for value in (params[name] for name in compiled.positiontup or ())
            ]
            rows = await connection.fetch(
                f"EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) {compiled}", *values
            )
            runs = []
            for _ in range(3):
                started = time.perf_counter()
                await connection.fetch(str(compiled), *values)
                runs.append(time.perf_counter() - started)
            print(f"### {title}\n\n```")
            print("\n".join(row[0] for row in rows))
            print(f"Run without EXPLAIN, best of 3: {min(runs) * 1000:.3f} ms")
            print("```\n")
    finally:
        await connection.close()


def main() -> None:
    server = sys.argv[1] if len(sys.argv) > 1 else "postgresql://postgres@127.0.0.1:5432/test"
    name = f"hexbank_plans_{uuid.uuid4().hex[:8]}"

    async def create() -> None:
        connection = await asyncpg.connect(server)
        await connection.execute(f'CREATE DATABASE "{name}"')
        await connection.close()

    async def drop() -> None:
        connection = await asyncpg.connect(server)
        await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await connection.close()

    asyncio.run(create())
    try:
        dsn = server.rsplit("/", 1)[0] + "/" + name
        migrations.upgrade(dsn.replace("postgresql://", "postgresql+asyncpg://", 1))
        asyncio.run(_plans(dsn))
    finally:
        asyncio.run(drop())


if __name__ == "__main__":
    main()
