from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from uuid import uuid4

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect
from sqlalchemy.ext.asyncio import create_async_engine

from adapters.sqlalchemy import migrations
from adapters.sqlalchemy.engine import make_session_factory
from adapters.sqlalchemy.reconciliation import SqlAlchemyLedgerReconciliation
from adapters.sqlalchemy.tables import metadata
from application.ports.reconciliation import ReconciliationReport
from tests.postgres import connect, create_database, drop_database, unique_name, with_database


def schema_difference(url: str) -> tuple[list[object], list[str]]:
    async def read() -> tuple[list[object], list[str]]:
        engine = create_async_engine(url)
        try:
            async with engine.connect() as connection:
                return await connection.run_sync(
                    lambda sync: (
                        compare_metadata(
                            MigrationContext.configure(sync, opts={"compare_type": True}),
                            metadata,
                        ),
                        inspect(sync).get_table_names(),
                    )
                )
        finally:
            await engine.dispose()

    return asyncio.run(read())


def test_upgrade_gives_exactly_the_tables_schema_and_downgrade_undoes_it(
    postgres_url: str,
) -> None:
    name = unique_name("hexbank_migrations")
    asyncio.run(create_database(postgres_url, name))
    url = with_database(postgres_url, name)
    try:
        migrations.upgrade(url)
        difference, tables = schema_difference(url)
        assert difference == []
        assert set(tables) >= {"users", "accounts", "transfers", "ledger_entries"}

        migrations.downgrade(url, "base")
        _, tables = schema_difference(url)
        assert tables == ["alembic_version"]

        migrations.upgrade(url)  # and back up again: the downgrade left nothing behind
        assert schema_difference(url)[0] == []
    finally:
        asyncio.run(drop_database(postgres_url, name))


def test_an_existing_database_with_data_upgrades_without_loss(postgres_url: str) -> None:
    """Books written by the schema before holds (revision 0002) keep every row and read as
    what they were: posted in full, deposits from the funding account."""
    name = unique_name("hexbank_upgrade")
    asyncio.run(create_database(postgres_url, name))
    url = with_database(postgres_url, name)
    try:
        migrations.upgrade(url, "0002")
        asyncio.run(_fill_old_schema(url))
        migrations.upgrade(url)
        assert schema_difference(url)[0] == []
        rows = asyncio.run(_read(url))
        assert rows == [
            ("deposit", "posted", 1_000, 1_000, 0, None),
            ("transfer", "posted", 300, 300, 0, None),
        ]
        accounts = asyncio.run(_accounts(url))
        # Every account is active, unnamed, unlabelled, and knows its newest entry's time.
        assert accounts == [("active", None, "{}", True)] * 3
        report = asyncio.run(_reconcile(url))
        assert report.is_clean, report
    finally:
        asyncio.run(drop_database(postgres_url, name))


async def _fill_old_schema(url: str) -> None:
    """A deposit of 1,000 and a transfer of 300, written as revision 0002's service did."""
    user, funding, first, second, deposit, transfer = (uuid4() for _ in range(6))
    now = datetime(2026, 1, 1, tzinfo=UTC)
    connection = await connect(url)
    try:
        await connection.execute(
            "INSERT INTO users VALUES ($1, 'ada@example.com', 'Ada', 'hash', true, $2)", user, now
        )
        for account, owner, kind, balance, count in (
            (funding, None, "funding", -1_000, 1),
            (first, user, "customer", 700, 2),
            (second, user, "customer", 300, 1),
        ):
            await connection.execute(
                "INSERT INTO accounts VALUES ($1, $2, $3, 'EUR', $4, $5, $6)",
                *(account, owner, kind, balance, count, now),
            )
        for transfer_id, source, destination, amount, note, at in (
            (deposit, funding, first, 1_000, None, now),
            (transfer, first, second, 300, "rent", now + timedelta(seconds=1)),
        ):
            await connection.execute(
                "INSERT INTO transfers VALUES ($1, $2, $3, $4, 'EUR', $5, $6)",
                *(transfer_id, source, destination, amount, note, at),
            )
        for account, transfer_id, sequence, amount, balance_after in (
            (funding, deposit, 1, -1_000, -1_000),
            (first, deposit, 1, 1_000, 1_000),
            (first, transfer, 2, -300, 700),
            (second, transfer, 1, 300, 300),
        ):
            await connection.execute(
                "INSERT INTO ledger_entries VALUES ($1, $2, $3, $4, $5, $6, $7)",
                *(uuid4(), account, transfer_id, sequence, amount, balance_after, now),
            )
    finally:
        await connection.close()


async def _read(url: str) -> list[tuple[object, ...]]:
    connection = await connect(url)
    try:
        rows = await connection.fetch(
            "SELECT kind, status, amount, posted_amount, reversed_amount, reversal_of"
            " FROM transfers ORDER BY created_at"
        )
    finally:
        await connection.close()
    return [tuple(row) for row in rows]


async def _accounts(url: str) -> list[tuple[object, ...]]:
    connection = await connect(url)
    try:
        rows = await connection.fetch(
            "SELECT status, name, metadata::text, last_entry_at IS NOT NULL FROM accounts"
        )
    finally:
        await connection.close()
    return [tuple(row) for row in rows]


async def _reconcile(url: str) -> ReconciliationReport:
    engine = create_async_engine(url)
    try:
        reconciliation = SqlAlchemyLedgerReconciliation(make_session_factory(engine))
        return await reconciliation.reconcile(datetime.now(UTC))
    finally:
        await engine.dispose()
