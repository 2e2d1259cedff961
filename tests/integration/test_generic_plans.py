"""A prepared statement runs on a generic plan from its sixth execution on a connection. The
hold sums read with every account must still use the partial index of pending holds there:
with `status = $n` they read each account's whole history instead, slower with every transfer
it ever made (a 1000-transfer batch went from 2 ms to 250 ms of account reads)."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.dialects import postgresql

from adapters.sqlalchemy.accounts import _GET, _MANY
from adapters.sqlalchemy.ledger import _OVERDUE_HOLDS
from entrypoints.container import Container

pytestmark = pytest.mark.integration


def as_prepared(statement: Any) -> str:
    """The statement as asyncpg prepares it: $1, $2... for its bound values."""
    dialect = postgresql.asyncpg.dialect()  # type: ignore[no-untyped-call]
    return str(statement.compile(dialect=dialect))


@pytest.mark.parametrize(
    ("statement", "index"),
    [
        (_GET, "ix_transfers_pending_from_account_id"),
        (_MANY, "ix_transfers_pending_from_account_id"),
        (_OVERDUE_HOLDS, "ix_transfers_pending_expires_at"),
    ],
    ids=["account", "accounts", "overdue holds"],
)
async def test_hold_sums_use_the_pending_index_on_a_generic_plan(
    container: Container, statement: Any, index: str
) -> None:
    async with container.engine().connect() as connection:
        await connection.execute(text("SET enable_seqscan = off"))
        await connection.execute(text("SET plan_cache_mode = force_generic_plan"))
        await connection.exec_driver_sql(f"PREPARE checked AS {as_prepared(statement)}")
        parameters = len(statement.compile().params)
        plan = await connection.exec_driver_sql(
            "EXPLAIN EXECUTE checked(" + ", ".join(["NULL"] * parameters) + ")"
        )
        lines = "\n".join(row[0] for row in plan)
        await connection.rollback()
    assert index in lines, lines
