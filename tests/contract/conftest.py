from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from uuid import UUID

import pytest
from sqlalchemy import text

from adapters.in_memory.reconciliation import InMemoryLedgerReconciliation
from adapters.in_memory.storage import InMemoryStorage
from adapters.in_memory.unit_of_work import InMemoryUnitOfWork
from application.ports.reconciliation import LedgerReconciliation
from application.ports.unit_of_work import UnitOfWorkFactory


@dataclass(frozen=True)
class Persistence:
    """One implementation of every persistence port, over one store."""

    uow_factory: UnitOfWorkFactory
    reconciliation: LedgerReconciliation
    rewrite_amount: Callable[[UUID, int, int], Awaitable[None]]
    """Change one stored entry's amount (account, sequence, by how much) behind the store's
    back, as someone with access to the storage could: what reconcile must find."""


@pytest.fixture(params=["in_memory", pytest.param("postgres", marks=pytest.mark.postgres)])
def persistence(request: pytest.FixtureRequest) -> Persistence:
    """The same contract, run against the fake and against the real thing."""
    if request.param == "in_memory":
        storage = InMemoryStorage()

        async def rewrite_in_memory(account_id: UUID, sequence: int, delta: int) -> None:
            entries = storage.entries[account_id]
            for index, entry in enumerate(entries):
                if entry.sequence == sequence:
                    entries[index] = replace(entry, amount=entry.amount + delta)

        return Persistence(
            lambda: InMemoryUnitOfWork(storage),
            InMemoryLedgerReconciliation(storage),
            rewrite_in_memory,
        )
    container = request.getfixturevalue("container")

    async def rewrite_in_sql(account_id: UUID, sequence: int, delta: int) -> None:
        async with container.engine().begin() as connection:
            await connection.execute(
                text(
                    "UPDATE ledger_entries SET amount = amount + :delta"
                    " WHERE account_id = :account AND sequence = :sequence"
                ),
                {"delta": delta, "account": account_id, "sequence": sequence},
            )

    return Persistence(container.unit_of_work, container.ledger_reconciliation(), rewrite_in_sql)


@pytest.fixture
def uow_factory(persistence: Persistence) -> UnitOfWorkFactory:
    return persistence.uow_factory
