from __future__ import annotations

import asyncio

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect
from sqlalchemy.ext.asyncio import create_async_engine

from adapters.sqlalchemy import migrations
from adapters.sqlalchemy.tables import metadata
from tests.postgres import create_database, drop_database, unique_name, with_database


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
