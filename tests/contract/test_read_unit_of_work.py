"""The unit of work (a pooled connection, no ORM Session), here in autocommit for
reads: it reads what the writing one wrote, through every repository, and gives its
connection back however it is left."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from adapters.sqlalchemy.unit_of_work import SqlAlchemyUnitOfWork
from application.errors import StorageUnavailable
from application.use_cases.register_user import Registration
from domain.user import User
from entrypoints.container import Container, build_container
from tests.conftest import make_settings

pytestmark = pytest.mark.integration
NOW = datetime(2026, 1, 1, tzinfo=UTC)


async def test_it_reads_users_accounts_ledger_and_outbox(container: Container) -> None:
    user = await container.register_user()(Registration("ada@example.com", "correct horse", "Ada"))
    account = await container.open_account()(user.id, "EUR")
    receipt = await container.deposit()(user.id, account.id, 5_000)
    pool = container.engine().pool
    before = pool.checkedout()  # type: ignore[attr-defined]

    uow = container.read_unit_of_work()
    assert isinstance(uow, SqlAlchemyUnitOfWork)
    async with uow:
        assert await uow.users.get(user.id) == user
        assert await uow.users.get_by_email("ada@example.com") == user
        read = await uow.accounts.get(account.id, at=datetime.now(UTC))
        assert read is not None
        assert read.balance == 5_000
        assert await uow.ledger.get_transfer(receipt.transfer.id) == receipt.transfer
        assert [
            e.amount for e in await uow.ledger.entries(account.id, before_sequence=None, limit=10)
        ] == [5_000]
        feed = await uow.outbox.feed(user.id, after=None, types=(), limit=10)
        assert feed
        assert pool.checkedout() == before + 1  # type: ignore[attr-defined]
    assert pool.checkedout() == before  # type: ignore[attr-defined]


async def test_it_gives_the_connection_back_when_the_work_fails(container: Container) -> None:
    async with container.read_unit_of_work() as uow:
        await uow.users.get_by_email("nobody@example.com")  # the pool now holds a connection
    pool = container.engine().pool
    before = pool.checkedout()  # type: ignore[attr-defined]
    with pytest.raises(LookupError):
        async with container.read_unit_of_work() as uow:
            await uow.ledger.get_transfers([])
            raise LookupError("a bug in the use case")
    assert pool.checkedout() == before  # type: ignore[attr-defined]


async def test_no_free_connection_is_storage_unavailable(database_url: str, tmp_path: Path) -> None:
    """The connection is taken on entry: a pool timeout there is a 503 like anywhere else."""
    settings = make_settings(
        database_url, tmp_path, db_pool_size=1, db_max_overflow=0, db_pool_timeout_s=0.2
    )
    container = build_container(settings, database_url)
    await container.init_resources()  # type: ignore[misc]
    try:
        held = await container.engine().connect().start()
        try:
            with pytest.raises(StorageUnavailable):
                async with container.read_unit_of_work():
                    pass
        finally:
            await held.close()
        async with container.read_unit_of_work() as uow:  # and it serves again afterwards
            assert await uow.users.get_by_email("nobody@example.com") is None
    finally:
        await container.shutdown_resources()  # type: ignore[misc]


async def test_its_autocommit_does_not_outlive_it(database_url: str, tmp_path: Path) -> None:
    """Reads switch their connection to AUTOCOMMIT; the pool must switch it back, or the
    next writer on the same connection would commit every statement as it goes."""
    settings = make_settings(database_url, tmp_path, db_pool_size=1, db_max_overflow=0)
    container = build_container(settings, database_url)
    await container.init_resources()  # type: ignore[misc]
    try:
        async with container.read_unit_of_work() as uow:
            assert await uow.users.get_by_email("ada@example.com") is None
        user = User.register(email="ada@example.com", full_name="Ada", password_hash="x", now=NOW)
        async with container.unit_of_work() as uow:  # the same, single pooled connection
            await uow.users.add(user)
            # left without commit: rolled back
        async with container.read_unit_of_work() as uow:
            assert await uow.users.get(user.id) is None
    finally:
        await container.shutdown_resources()  # type: ignore[misc]
