from __future__ import annotations

from application.ports.ledger import ReconciliationReport
from application.ports.unit_of_work import UnitOfWorkFactory


class ReconcileLedger:
    """Check the whole ledger and report every difference; an operator's tool, not an API."""

    def __init__(self, uow_factory: UnitOfWorkFactory) -> None:
        self._uow_factory = uow_factory

    async def __call__(self) -> ReconciliationReport:
        async with self._uow_factory() as uow:
            return await uow.ledger.reconcile()
