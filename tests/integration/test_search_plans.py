"""Every search filter is served by an index, so a filter that matches nothing reads a
bounded number of rows, not the account's history: shown with EXPLAIN (ANALYZE, BUFFERS) of
the adapter's own statement over 100,000 transfers, on custom and on generic plans (a
prepared statement runs on a generic plan from its sixth execution)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import asyncpg
import pytest
from sqlalchemy.dialects.postgresql import asyncpg as asyncpg_dialect

from adapters.sqlalchemy.ledger import _search
from application.ports.ledger import TransferQuery
from domain.transfer import TransferKind, TransferStatus
from tests.postgres import connect

pytestmark = pytest.mark.integration

TRANSFERS = 100_000
ACCOUNTS = 200
OWNER = UUID("00000000-0000-0000-0000-000000000001")
BUSY = UUID("00000000-0000-0000-0001-000000000001")
"""Touched by every transfer: 100,000 of history, all posted transfers and deposits."""
PAGE = 51

# Account 1 is on one side of every transfer. Elsewhere (account 2 to the others) there are
# withdrawals, reversals, holds of every status: each value exists, so the planner's
# statistics know them, but none touches account 1.
_FILL = f"""
INSERT INTO users VALUES ('{OWNER}', 'plans@example.com', 'Plans', 'x', true, now());
INSERT INTO accounts (id, owner_id, kind, currency, balance, entry_count, created_at)
SELECT ('00000000-0000-0000-0001-' || lpad(to_hex(n), 12, '0'))::uuid,
       '{OWNER}', 'customer', 'EUR', 0, 0, now()
FROM generate_series(1, {ACCOUNTS}) AS n;
INSERT INTO transfers (id, from_account_id, to_account_id, amount, currency, created_at, kind,
                       status, posted_amount, expires_at, reversal_of, created_by)
SELECT ('00000000-0000-0000-0002-' || lpad(to_hex(n), 12, '0'))::uuid,
       CASE WHEN n % 2 = 0 THEN '{BUSY}'::uuid
            ELSE ('00000000-0000-0000-0001-' || lpad(to_hex(2 + n % {ACCOUNTS - 1}), 12, '0'))::uuid
       END,
       CASE WHEN n % 2 = 1 THEN '{BUSY}'::uuid
            ELSE ('00000000-0000-0000-0001-' || lpad(to_hex(2 + n % {ACCOUNTS - 1}), 12, '0'))::uuid
       END,
       1 + n % 1000, 'EUR', now() - make_interval(secs => n),
       CASE WHEN n % 2 = 1 AND n % 7 = 0 THEN 'deposit' ELSE 'transfer' END,
       'posted', 1 + n % 1000, NULL, NULL, '{OWNER}'
FROM generate_series(1, {TRANSFERS}) AS n;
INSERT INTO transfers (id, from_account_id, to_account_id, amount, currency, created_at, kind,
                       status, posted_amount, expires_at, reversal_of, created_by)
SELECT gen_random_uuid(),
       ('00000000-0000-0000-0001-' || lpad(to_hex(2 + n % 50), 12, '0'))::uuid,
       ('00000000-0000-0000-0001-' || lpad(to_hex(100 + n % 50), 12, '0'))::uuid,
       5, 'EUR', now() - make_interval(secs => n),
       CASE WHEN n % 4 = 0 THEN 'withdrawal' WHEN n % 4 = 1 THEN 'reversal' ELSE 'transfer' END,
       CASE WHEN n % 4 = 2 THEN (ARRAY['pending', 'voided', 'expired'])[1 + n % 3]
            ELSE 'posted' END,
       CASE WHEN n % 4 = 2 THEN NULL ELSE 5 END,
       CASE WHEN n % 4 = 2 THEN now() + make_interval(hours => n % 48 - 24) END,
       CASE WHEN n % 4 = 1 THEN ('00000000-0000-0000-0002-' || lpad(to_hex(n), 12, '0'))::uuid
       END,
       '{OWNER}'
FROM generate_series(1, 2000) AS n;
ANALYZE;
"""

NO_MATCH: dict[str, dict[str, Any]] = {
    "kind=withdrawal": {"kind": TransferKind.WITHDRAWAL},
    "kind=reversal": {"kind": TransferKind.REVERSAL},
    "status=pending": {"status": TransferStatus.PENDING},
    "status=voided": {"status": TransferStatus.VOIDED},
    "status=expired": {"status": TransferStatus.EXPIRED},
    "kind=withdrawal, status=pending": {
        "kind": TransferKind.WITHDRAWAL,
        "status": TransferStatus.PENDING,
    },
}


def nodes(plan: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield plan
    for child in plan.get("Plans", ()):
        yield from nodes(child)


async def explain(connection: asyncpg.Connection, query: TransferQuery) -> dict[str, Any]:
    dialect = asyncpg_dialect.dialect()  # type: ignore[no-untyped-call]
    statement, bound = _search(query)
    compiled = statement.compile(dialect=dialect)
    params = compiled.construct_params(bound)
    values = [params[name] for name in compiled.positiontup or ()]
    rows = await connection.fetch(f"EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) {compiled}", *values)
    document = rows[0][0]
    plan: dict[str, Any] = (json.loads(document) if isinstance(document, str) else document)[0]
    return plan


def render(plan: dict[str, Any]) -> str:
    """The plan's nodes, one a line, with what they read: for the assertion messages."""

    def lines(node: dict[str, Any], depth: int) -> Iterator[str]:
        described = ", ".join(
            f"{key}: {node[key]}"
            for key in ("Index Name", "Index Cond", "Recheck Cond", "Filter")
            if key in node
        )
        removed = node.get("Rows Removed by Filter", 0)
        yield f"{'  ' * depth}{node['Node Type']} rows={node['Actual Rows']} " + (
            f"removed={removed} {described}"
        )
        for child in node.get("Plans", ()):
            yield from lines(child, depth + 1)

    return "\n".join(lines(plan["Plan"], 0))


def reads(plan: dict[str, Any]) -> tuple[int, int, int]:
    """Rows the table scans returned, rows they read and threw away, and shared buffers
    touched. (A bitmap index scan hands on row addresses, not rows: what it costs is in the
    buffers.)"""
    scans = [
        node
        for node in nodes(plan["Plan"])
        if "Scan" in node["Node Type"] and node["Node Type"] != "Bitmap Index Scan"
    ]
    returned = sum(node["Actual Rows"] * node["Actual Loops"] for node in scans)
    removed = sum(
        (node.get("Rows Removed by Filter", 0) + node.get("Rows Removed by Index Recheck", 0))
        * node["Actual Loops"]
        for node in scans
    )
    top = plan["Plan"]
    buffers = top["Shared Hit Blocks"] + top["Shared Read Blocks"]
    return returned, removed, buffers


@pytest.fixture
async def filled(database_url: str) -> AsyncIterator[asyncpg.Connection]:
    connection = await connect(database_url)
    try:
        await connection.execute(_FILL)
        yield connection
    finally:
        await connection.close()


@pytest.mark.parametrize("generic", [False, True], ids=["custom plan", "generic plan"])
async def test_a_filter_that_matches_nothing_reads_a_bounded_number_of_rows(
    filled: asyncpg.Connection, generic: bool
) -> None:
    if generic:
        await filled.execute("SET plan_cache_mode = force_generic_plan")
    now = datetime.now(UTC)
    for title, filters in NO_MATCH.items():
        plan = await explain(filled, TransferQuery((BUSY,), now, PAGE, **filters))
        returned, removed, buffers = reads(plan)
        # Nothing matches: the index says so at once, whatever the 100,000 of history.
        assert (returned, removed) == (0, 0), f"{title}\n{render(plan)}"
        assert buffers <= 20, (title, buffers)


async def test_a_filter_that_matches_reads_one_page(filled: asyncpg.Connection) -> None:
    now = datetime.now(UTC)
    for filters in ({}, {"kind": TransferKind.DEPOSIT}, {"status": TransferStatus.POSTED}):
        plan = await explain(filled, TransferQuery((BUSY,), now, PAGE, **filters))
        returned, removed, buffers = reads(plan)
        assert plan["Plan"]["Actual Rows"] == PAGE
        assert returned <= 2 * PAGE, render(plan)
        assert removed == 0, render(plan)
        assert buffers <= 4 * PAGE + 20


async def test_a_search_of_all_the_owners_accounts_is_bounded_by_page_and_accounts(
    filled: asyncpg.Connection,
) -> None:
    now = datetime.now(UTC)
    for filters in ({}, {"kind": TransferKind.WITHDRAWAL}, {"status": TransferStatus.VOIDED}):
        query = TransferQuery((), now, PAGE, owner_id=OWNER, **filters)
        plan = await explain(filled, query)
        returned, removed, _ = reads(plan)
        # Per side: the owner's accounts read twice, the newest match of each, then a page
        # from at most the page's worth of accounts: never an account's whole history
        # (account 1 alone has 100,000).
        assert returned <= 2 * (3 * ACCOUNTS + PAGE * PAGE), render(plan)
        assert removed == 0
