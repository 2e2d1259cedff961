from __future__ import annotations

from dataclasses import dataclass

import pytest

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


@pytest.fixture(params=["in_memory", pytest.param("postgres", marks=pytest.mark.postgres)])
def persistence(request: pytest.FixtureRequest) -> Persistence:
    """The same contract, run against the fake and against the real thing."""
    if request.param == "in_memory":
        storage = InMemoryStorage()
        return Persistence(
            lambda: InMemoryUnitOfWork(storage), InMemoryLedgerReconciliation(storage)
        )
    container = request.getfixturevalue("container")
    return Persistence(container.unit_of_work, container.ledger_reconciliation())


@pytest.fixture
def uow_factory(persistence: Persistence) -> UnitOfWorkFactory:
    return persistence.uow_factory
