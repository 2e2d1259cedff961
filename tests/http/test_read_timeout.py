"""Reads carry their own statement timeout (HEXBANK_READ_STATEMENT_TIMEOUT_MS), shorter than
writes'; a read it cuts is 503 `read-timeout`, a write's statement timeout stays
`storage-unavailable`. One pooled connection serves both, so each switch is exercised."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from tests.conftest import make_settings, serving
from tests.http.helpers import assert_problem, payer_and_payee
from tests.postgres import connect

pytestmark = pytest.mark.postgres  # PostgreSQL's statement_timeout on a pooled connection

READ_MS = 300
WRITE_MS = 1_500


async def test_a_read_past_its_timeout_is_read_timeout_and_a_write_keeps_its_own(
    database_url: str, tmp_path: Path
) -> None:
    settings = make_settings(
        database_url,
        tmp_path,
        read_statement_timeout_ms=READ_MS,
        db_statement_timeout_ms=WRITE_MS,
        db_lock_timeout_ms=10_000,  # a blocked statement ends by its statement timeout
        db_pool_size=1,  # one connection: reads and writes take turns on it
        db_max_overflow=0,
        auth_recheck_s=3600,  # the token's user is read once, before the table is locked
    )
    if settings.db_pgbouncer:
        pytest.skip("behind PgBouncer the role's statement_timeout applies (docs/scaling.md)")
    async with serving(settings, database_url) as client:
        ada, _, source, _ = await payer_and_payee(client, funds=100)
        deposit = f"/api/v1/accounts/{source}/deposits"
        assert (await client.get(f"/api/v1/accounts/{source}", headers=ada)).status_code == 200

        blocker = await connect(database_url)
        try:
            lock = blocker.transaction()
            await lock.start()
            await blocker.execute("LOCK TABLE accounts IN ACCESS EXCLUSIVE MODE")
            try:
                # A write last used the connection: the read still gets the read timeout.
                started = time.perf_counter()
                read = await client.get(f"/api/v1/accounts/{source}", headers=ada)
                read_s = time.perf_counter() - started
                problem = assert_problem(read, 503, "read-timeout")
                assert "narrow" in problem["detail"]
                assert int(read.headers["retry-after"]) >= 1
                assert read_s < WRITE_MS / 1000

                # A read last used it: the write gets its own, longer timeout back.
                started = time.perf_counter()
                write = await client.post(deposit, json={"amount": 5}, headers=ada)
                write_s = time.perf_counter() - started
                assert_problem(write, 503, "storage-unavailable")
                assert write_s >= WRITE_MS / 1000
            finally:
                await lock.rollback()
        finally:
            await blocker.close()

        # Back to normal, on the same connection: a write, a read, a write.
        assert (await client.post(deposit, json={"amount": 5}, headers=ada)).status_code == 201
        account = await client.get(f"/api/v1/accounts/{source}", headers=ada)
        assert account.status_code == 200
        assert account.json()["balance"] == 105
        assert (await client.post(deposit, json={"amount": 5}, headers=ada)).status_code == 201
