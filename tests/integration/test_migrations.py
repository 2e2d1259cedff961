from __future__ import annotations

import asyncio
import hashlib
import struct
from datetime import UTC, datetime, timedelta
from uuid import uuid4

import asyncpg
import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect
from sqlalchemy.ext.asyncio import create_async_engine

from adapters.sqlalchemy import migrations
from adapters.sqlalchemy.engine import make_session_factory
from adapters.sqlalchemy.outbox import _BACKLOG
from adapters.sqlalchemy.reconciliation import SqlAlchemyLedgerReconciliation
from adapters.sqlalchemy.tables import metadata
from application.ports.reconciliation import ReconciliationReport
from domain.chain import ChainedEntry, ChainStart, first_break
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


def test_undelivered_events_stay_undelivered_across_0007_both_ways(postgres_url: str) -> None:
    """The relay's state moves off the event rows into event_deliveries and back: what was
    delivered stays delivered, what waited (leased or not) still waits, with its lease."""
    name = unique_name("hexbank_deliveries")
    asyncio.run(create_database(postgres_url, name))
    url = with_database(postgres_url, name)
    at = datetime(2026, 1, 1, tzinfo=UTC)
    try:
        migrations.upgrade(url, "0006")
        asyncio.run(
            _events(
                url,
                "INSERT INTO events (id, type, occurred_at, schema_version, data, accounts,"
                " user_ids, delivered_at, claimed_until) VALUES"
                " (gen_random_uuid(), 'delivered', $1, 1, '{}', '[]', '{}', $1, NULL),"
                " (gen_random_uuid(), 'waiting', $1, 1, '{}', '[]', '{}', NULL, NULL),"
                " (gen_random_uuid(), 'leased', $1, 1, '{}', '[]', '{}', NULL, $2)",
                at,
                at + timedelta(minutes=1),
            )
        )
        migrations.upgrade(url)
        waiting = asyncio.run(
            _events(
                url,
                "SELECT e.type, d.claimed_until FROM event_deliveries AS d"
                " JOIN events AS e ON e.position = d.position ORDER BY e.position",
            )
        )
        assert waiting == [("waiting", None), ("leased", at + timedelta(minutes=1))]
        # A new event, written as every writer writes it, waits too (the trigger).
        asyncio.run(
            _events(
                url,
                "INSERT INTO events (id, type, occurred_at, schema_version, data, accounts,"
                " user_ids) VALUES (gen_random_uuid(), 'new', $1, 1, '{}', '[]', '{}')",
                at,
            )
        )
        migrations.downgrade(url, "0006")
        back = asyncio.run(
            _events(url, "SELECT type, delivered_at, claimed_until FROM events ORDER BY position")
        )
        assert back == [
            ("delivered", at, None),
            ("waiting", None, None),
            ("leased", None, at + timedelta(minutes=1)),
            ("new", None, None),
        ]
    finally:
        asyncio.run(drop_database(postgres_url, name))


async def _events(url: str, statement: str, *arguments: object) -> list[tuple[object, ...]]:
    connection = await connect(url)
    try:
        rows = await connection.fetch(statement, *arguments)
    finally:
        await connection.close()
    return [tuple(row) for row in rows]


def test_0010_adds_api_keys_to_a_database_with_users_and_removes_only_them(
    postgres_url: str,
) -> None:
    """Existing users keep every row across 0010 both ways; a key written after it belongs to
    one of them (a key for no user is refused), and going back drops the keys alone."""
    name = unique_name("hexbank_api_keys")
    asyncio.run(create_database(postgres_url, name))
    url = with_database(postgres_url, name)
    at = datetime(2026, 1, 1, tzinfo=UTC)
    user_id = uuid4()
    try:
        migrations.upgrade(url, "0009")
        asyncio.run(
            _events(
                url,
                "INSERT INTO users (id, email, full_name, password_hash, is_active, created_at)"
                " VALUES ($1, 'ada@example.com', 'Ada', 'hash', true, $2)",
                user_id,
                at,
            )
        )
        migrations.upgrade(url)
        assert schema_difference(url)[0] == []
        insert_key = (
            "INSERT INTO api_keys (id, user_id, name, prefix, secret_hash, scopes, created_at)"
            " VALUES (gen_random_uuid(), $1, 'backend', 'hxk_abcdefgh', $2, $3, $4)"
        )
        asyncio.run(_events(url, insert_key, user_id, b"\x01" * 32, ["accounts:read"], at))
        keys = asyncio.run(
            _events(url, "SELECT user_id, scopes, revoked_at, last_used_at FROM api_keys")
        )
        assert keys == [(user_id, ["accounts:read"], None, None)]
        with pytest.raises(asyncpg.ForeignKeyViolationError):
            asyncio.run(_events(url, insert_key, uuid4(), b"\x02" * 32, ["accounts:read"], at))
        with pytest.raises(asyncpg.CheckViolationError):  # not a SHA-256
            asyncio.run(_events(url, insert_key, user_id, b"\x03" * 16, ["accounts:read"], at))

        migrations.downgrade(url, "0009")
        _, tables = schema_difference(url)
        assert "api_keys" not in tables
        users = asyncio.run(_events(url, "SELECT id, email FROM users"))
        assert users == [(user_id, "ada@example.com")]
        migrations.upgrade(url)
        assert asyncio.run(_events(url, "SELECT count(*) FROM api_keys")) == [(0,)]
    finally:
        asyncio.run(drop_database(postgres_url, name))


def test_0011_chains_the_entries_already_written_and_its_downgrade_removes_the_hashes(
    postgres_url: str,
) -> None:
    """Books written before the chain get every entry hashed, account by account from 32
    zero bytes, exactly as the write path would have, and each account's head is its
    newest entry's hash."""
    name = unique_name("hexbank_chain")
    asyncio.run(create_database(postgres_url, name))
    url = with_database(postgres_url, name)
    try:
        migrations.upgrade(url, "0002")
        asyncio.run(_fill_old_schema(url))
        migrations.upgrade(url, "0010")
        migrations.upgrade(url, "0011")
        entries, heads = asyncio.run(_chain_rows(url))
        assert len(entries) == 4
        by_account: dict[object, list[ChainedEntry]] = {}
        for entry in entries:
            by_account.setdefault(entry.account_id, []).append(entry)
        for account_id, chain in by_account.items():
            assert first_break(ChainStart(), chain) is None
            assert heads[account_id] == chain[-1].entry_hash
        # The first link, from the documented layout itself (docs/statements.md).
        first = entries[0]
        layout = (
            struct.pack(
                ">16sq16sqq3sqB",
                first.account_id.bytes,
                first.sequence,
                first.transfer_id.bytes,
                first.amount,
                first.balance_after,
                first.currency.encode(),
                int(first.created_at.timestamp()) * 1_000_000,
                len(first.transfer_kind),
            )
            + first.transfer_kind.encode()
        )
        assert first.sequence == 1
        assert first.entry_hash == hashlib.sha256(bytes(32) + layout).digest()
        # Today's reconcile reads today's schema: the chain 0011 wrote holds through the rest.
        migrations.upgrade(url)
        assert asyncio.run(_reconcile(url)).is_clean

        migrations.downgrade(url, "0010")
        columns = asyncio.run(_columns(url))
        assert "entry_hash" not in columns["ledger_entries"]
        assert "head_hash" not in columns["accounts"]
    finally:
        asyncio.run(drop_database(postgres_url, name))


async def _chain_rows(url: str) -> tuple[list[ChainedEntry], dict[object, bytes]]:
    connection = await connect(url)
    try:
        rows = await connection.fetch(
            "SELECT e.account_id, e.sequence, e.transfer_id, e.amount, e.balance_after,"
            " a.currency, e.created_at, t.kind, e.entry_hash"
            " FROM ledger_entries AS e JOIN accounts AS a ON a.id = e.account_id"
            " JOIN transfers AS t ON t.id = e.transfer_id ORDER BY e.account_id, e.sequence"
        )
        heads = await connection.fetch("SELECT id, head_hash FROM accounts")
    finally:
        await connection.close()
    return (
        [
            ChainedEntry(
                account_id=row["account_id"],
                sequence=row["sequence"],
                transfer_id=row["transfer_id"],
                amount=row["amount"],
                balance_after=row["balance_after"],
                currency=row["currency"],
                created_at=row["created_at"],
                transfer_kind=row["kind"],
                entry_hash=bytes(row["entry_hash"]),
            )
            for row in rows
        ],
        {row["id"]: bytes(row["head_hash"]) for row in heads},
    )


async def _columns(url: str) -> dict[str, set[str]]:
    connection = await connect(url)
    try:
        rows = await connection.fetch(
            "SELECT table_name, column_name FROM information_schema.columns"
            " WHERE table_name IN ('accounts', 'ledger_entries')"
        )
    finally:
        await connection.close()
    found: dict[str, set[str]] = {}
    for row in rows:
        found.setdefault(row["table_name"], set()).add(row["column_name"])
    return found


def test_0012_adds_webhooks_after_the_existing_events_and_removes_only_them(
    postgres_url: str,
) -> None:
    """The fan-out starts after the events written before 0012 (no endpoint existed for
    them); an endpoint belongs to a user, its deliveries to it; going back drops the webhook
    tables alone, events and users kept."""
    name = unique_name("hexbank_webhooks")
    asyncio.run(create_database(postgres_url, name))
    url = with_database(postgres_url, name)
    at = datetime(2026, 1, 1, tzinfo=UTC)
    user_id = uuid4()
    try:
        migrations.upgrade(url, "0010")
        asyncio.run(
            _events(
                url,
                "INSERT INTO users (id, email, full_name, password_hash, is_active, created_at)"
                " VALUES ($1, 'ada@example.com', 'Ada', 'hash', true, $2)",
                user_id,
                at,
            )
        )
        asyncio.run(
            _events(
                url,
                "INSERT INTO events (id, type, occurred_at, schema_version, data, accounts,"
                " user_ids) SELECT gen_random_uuid(), 'account.opened', $1, 1, '{}', '[]',"
                " ARRAY[$2::uuid] FROM generate_series(1, 3)",
                at,
                user_id,
            )
        )
        newest = asyncio.run(_events(url, "SELECT max(transaction_id), max(position) FROM events"))
        migrations.upgrade(url)
        assert schema_difference(url)[0] == []
        assert (
            asyncio.run(_events(url, "SELECT transaction_id, position FROM webhook_fan_out"))
            == newest
        )
        insert_endpoint = (
            "INSERT INTO webhook_endpoints (id, user_id, url, enabled, secret, created_at)"
            " VALUES ($1, $2, 'https://hooks.example.com/', true, 'whsec_x', $3)"
        )
        endpoint_id = uuid4()
        asyncio.run(_events(url, insert_endpoint, endpoint_id, user_id, at))
        with pytest.raises(asyncpg.ForeignKeyViolationError):
            asyncio.run(_events(url, insert_endpoint, uuid4(), uuid4(), at))
        insert_delivery = (
            "INSERT INTO webhook_deliveries (endpoint_id, event_id, status, attempts, queued_at)"
            " VALUES ($1, gen_random_uuid(), $2, 0, $3)"
        )
        asyncio.run(_events(url, insert_delivery, endpoint_id, "pending", at))
        with pytest.raises(asyncpg.CheckViolationError):
            asyncio.run(_events(url, insert_delivery, endpoint_id, "lost", at))

        migrations.downgrade(url, "0010")
        _, tables = schema_difference(url)
        assert not {"webhook_endpoints", "webhook_deliveries", "webhook_fan_out"} & set(tables)
        assert asyncio.run(_events(url, "SELECT count(*) FROM events")) == [(3,)]
        assert asyncio.run(_events(url, "SELECT id FROM users")) == [(user_id,)]
        migrations.upgrade(url)
        assert asyncio.run(_events(url, "SELECT count(*) FROM webhook_endpoints")) == [(0,)]
    finally:
        asyncio.run(drop_database(postgres_url, name))


def test_0013_gives_existing_accounts_no_overdraft_and_the_check_follows_the_limit(
    postgres_url: str,
) -> None:
    """An account written before 0013 reads with an overdraft limit of 0 and still cannot go
    below zero; with a limit it can, down to it; going back restores the old CHECK."""
    name = unique_name("hexbank_overdraft")
    asyncio.run(create_database(postgres_url, name))
    url = with_database(postgres_url, name)
    at = datetime(2026, 1, 1, tzinfo=UTC)
    user_id, account_id = uuid4(), uuid4()
    try:
        migrations.upgrade(url, "0010")
        asyncio.run(
            _events(
                url,
                "INSERT INTO users (id, email, full_name, password_hash, is_active, created_at)"
                " VALUES ($1, 'ada@example.com', 'Ada', 'hash', true, $2)",
                user_id,
                at,
            )
        )
        asyncio.run(
            _events(
                url,
                "INSERT INTO accounts (id, owner_id, kind, currency, balance, entry_count,"
                " created_at) VALUES ($1, $2, 'customer', 'EUR', 0, 0, $3)",
                account_id,
                user_id,
                at,
            )
        )
        migrations.upgrade(url)
        assert schema_difference(url)[0] == []
        read = "SELECT balance, overdraft_limit, debt_above_limit FROM accounts"
        assert asyncio.run(_events(url, read)) == [(0, 0, 0)]
        overdraw = "UPDATE accounts SET balance = $1 WHERE id = $2"
        with pytest.raises(asyncpg.CheckViolationError):
            asyncio.run(_events(url, overdraw, -1, account_id))
        asyncio.run(
            _events(url, "UPDATE accounts SET overdraft_limit = 50 WHERE id = $1", account_id)
        )
        asyncio.run(_events(url, overdraw, -50, account_id))
        with pytest.raises(asyncpg.CheckViolationError):
            asyncio.run(_events(url, overdraw, -51, account_id))

        asyncio.run(_events(url, overdraw, 0, account_id))
        migrations.downgrade(url, "0010")
        assert asyncio.run(_events(url, "SELECT balance FROM accounts")) == [(0,)]
        with pytest.raises(asyncpg.CheckViolationError):
            asyncio.run(_events(url, overdraw, -1, account_id))
    finally:
        asyncio.run(drop_database(postgres_url, name))


def test_0014_adds_balance_monitors_to_existing_accounts_and_removes_only_them(
    postgres_url: str,
) -> None:
    name = unique_name("hexbank_monitors")
    asyncio.run(create_database(postgres_url, name))
    url = with_database(postgres_url, name)
    at = datetime(2026, 1, 1, tzinfo=UTC)
    user_id, account_id = uuid4(), uuid4()
    try:
        migrations.upgrade(url, "0013")
        asyncio.run(
            _events(
                url,
                "INSERT INTO users (id, email, full_name, password_hash, is_active, created_at)"
                " VALUES ($1, 'ada@example.com', 'Ada', 'hash', true, $2)",
                user_id,
                at,
            )
        )
        asyncio.run(
            _events(
                url,
                "INSERT INTO accounts (id, owner_id, kind, currency, balance, entry_count,"
                " created_at) VALUES ($1, $2, 'customer', 'EUR', 0, 0, $3)",
                account_id,
                user_id,
                at,
            )
        )
        migrations.upgrade(url)
        assert schema_difference(url)[0] == []
        watch = (
            "INSERT INTO balance_monitors (id, account_id, field, op, value, created_at)"
            " VALUES (gen_random_uuid(), $1, $2, 'lt', 0, $3)"
        )
        asyncio.run(_events(url, watch, account_id, "balance", at))
        with pytest.raises(asyncpg.CheckViolationError):
            asyncio.run(_events(url, watch, account_id, "held", at))
        with pytest.raises(asyncpg.ForeignKeyViolationError):
            asyncio.run(_events(url, watch, uuid4(), "balance", at))
        migrations.downgrade(url, "0013")
        assert "balance_monitors" not in schema_difference(url)[1]
        assert asyncio.run(_events(url, "SELECT id FROM accounts")) == [(account_id,)]
    finally:
        asyncio.run(drop_database(postgres_url, name))


def test_0015_gives_every_undelivered_event_its_time_on_the_queue_both_ways(
    postgres_url: str,
) -> None:
    name = unique_name("hexbank_delivery_time")
    asyncio.run(create_database(postgres_url, name))
    url = with_database(postgres_url, name)
    at = datetime(2026, 1, 1, tzinfo=UTC)
    write = (
        "INSERT INTO events (id, type, occurred_at, schema_version, data, accounts, user_ids)"
        " VALUES (gen_random_uuid(), $1, $2, 1, '{}', '[]', '{}')"
    )
    try:
        migrations.upgrade(url, "0014")
        asyncio.run(_events(url, write, "earlier", at))
        asyncio.run(_events(url, write, "delivered", at + timedelta(hours=1)))
        asyncio.run(
            _events(
                url,
                "DELETE FROM event_deliveries WHERE position ="
                " (SELECT position FROM events WHERE type = 'delivered')",
            )
        )
        migrations.upgrade(url)
        assert schema_difference(url)[0] == []
        asyncio.run(_events(url, write, "later", at + timedelta(hours=2)))
        queued = (
            "SELECT e.type, d.occurred_at FROM event_deliveries AS d"
            " JOIN events AS e ON e.position = d.position ORDER BY d.position"
        )
        assert asyncio.run(_events(url, queued)) == [
            ("earlier", at),
            ("later", at + timedelta(hours=2)),
        ]
        migrations.downgrade(url, "0014")
        difference = schema_difference(url)[0]
        assert [(change[0], change[2], change[3].name) for change in difference] == [  # type: ignore[index]
            ("add_column", "event_deliveries", "occurred_at")
        ]
        asyncio.run(_events(url, write, "after the downgrade", at))
        assert asyncio.run(_events(url, "SELECT count(*) FROM event_deliveries")) == [(3,)]
    finally:
        asyncio.run(drop_database(postgres_url, name))


def test_the_relays_backlog_plan_kept_from_empty_tables_reads_the_queue_alone(
    postgres_url: str,
) -> None:
    """The relay prepares its count once: planned on a just-vacuumed empty database, a join
    to `events` became a nested loop that scanned every event for every undelivered one."""
    name = unique_name("hexbank_backlog_plan")
    asyncio.run(create_database(postgres_url, name))
    url = with_database(postgres_url, name)
    try:
        migrations.upgrade(url)
        asyncio.run(_kept_backlog_plan(url))
    finally:
        asyncio.run(drop_database(postgres_url, name))


async def _kept_backlog_plan(url: str) -> None:
    connection = await connect(url)
    try:
        await connection.execute("VACUUM ANALYZE events")
        await connection.execute("VACUUM ANALYZE event_deliveries")
        await connection.execute(f"PREPARE backlog AS {_BACKLOG}")
        await connection.execute("EXECUTE backlog")
        await connection.execute(
            "INSERT INTO events (id, type, occurred_at, schema_version, data, accounts, user_ids)"
            " SELECT gen_random_uuid(), 'grown', now(), 1, '{}', '[]', '{}'"
            " FROM generate_series(1, 2000)"
        )
        plan = "\n".join(row[0] for row in await connection.fetch("EXPLAIN EXECUTE backlog"))
        assert "event_deliveries" in plan
        assert " events " not in plan, plan
    finally:
        await connection.close()
