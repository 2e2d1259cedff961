from __future__ import annotations

from application.ports.clock import Clock
from application.ports.reconciliation import LedgerReconciliation, ReconciliationReport


class ReconcileLedger:
    """Check the whole ledger and report every difference; an operator's tool, not an API."""

    def __init__(self, reconciliation: LedgerReconciliation, clock: Clock) -> None:
        self._reconciliation = reconciliation
        self._clock = clock

    async def __call__(self) -> ReconciliationReport:
        return await self._reconciliation.reconcile(self._clock.now())
