from __future__ import annotations

import pytest

from adapters.in_memory.storage import InMemoryStorage
from adapters.in_memory.unit_of_work import InMemoryUnitOfWork
from application.ports.unit_of_work import UnitOfWorkFactory


@pytest.fixture(params=["in_memory", "postgres"])
def uow_factory(request: pytest.FixtureRequest) -> UnitOfWorkFactory:
    """The same contract, run against the fake and against the real thing."""
    if request.param == "in_memory":
        storage = InMemoryStorage()
        return lambda: InMemoryUnitOfWork(storage)
    container = request.getfixturevalue("container")
    return container.unit_of_work  # type: ignore[no-any-return]
