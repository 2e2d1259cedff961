"""A connection whose state an error made uncertain must never serve another transaction.

The trial's case: asyncpg failed to encode a parameter after the server had armed the
statement timer, the connection went back to the pool, and the timer later cancelled the
next BEGIN on it; from then on every transaction there failed (500s until a restart).
Here the same damage is done on purpose, below every check of the API."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from sqlalchemy import text

from application.transfer_requests import TransferRequest
from application.use_cases.register_user import Registration
from entrypoints.container import build_container
from tests.conftest import make_settings

pytestmark = pytest.mark.integration

TIMER_MS = 300


async def test_a_connection_poisoned_by_a_client_side_error_is_thrown_away(
    database_url: str, tmp_path: Path
) -> None:
    # One connection, so the damaged one would be the one every later request gets.
    settings = make_settings(
        database_url,
        tmp_path,
        db_pool_size=1,
        db_max_overflow=0,
        db_statement_timeout_ms=TIMER_MS,
    )
    container = build_container(settings, database_url)
    await container.init_resources()  # type: ignore[misc]
    try:
        user = await container.register_user()(Registration("ada@example.com", "password1", "A"))
        source = await container.open_account()(user.id, "EUR")
        destination = await container.open_account()(user.id, "EUR")
        await container.deposit()(user.id, source.id, 1_000)

        # Reads run in autocommit, the way the statement read that met the bug did.
        engine = container.autocommit_engine()
        with pytest.raises(Exception, match="out of int64 range"):
            async with engine.connect() as connection:
                await connection.execute(text("SELECT CAST(:n AS bigint)"), {"n": 2**63})
        await asyncio.sleep(2 * TIMER_MS / 1000)  # the armed timer has fired by now

        for _ in range(5):
            receipt = await container.transfer_funds()(
                user.id, TransferRequest(source.id, destination.id, 1, "EUR")
            )
            assert receipt.transfer.amount == 1
        async with engine.connect() as connection:
            assert await connection.scalar(text("SELECT 1")) == 1
    finally:
        await container.shutdown_resources()  # type: ignore[misc]
