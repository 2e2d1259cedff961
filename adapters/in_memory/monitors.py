from __future__ import annotations

from collections.abc import Collection
from dataclasses import replace
from uuid import UUID

from adapters.in_memory.storage import InMemoryStorage, PendingChanges
from application.ports.monitors import MonitorRepository
from domain.monitor import Monitor


class InMemoryMonitorRepository(MonitorRepository):
    def __init__(self, storage: InMemoryStorage, pending: PendingChanges) -> None:
        self._storage = storage
        self._pending = pending

    def _all(self) -> list[Monitor]:
        merged = {**self._storage.monitors, **self._pending.monitors}
        gone = self._pending.removed_monitors
        return sorted(
            (m for m in merged.values() if m.id not in gone),
            key=lambda monitor: (monitor.created_at, monitor.id),
        )

    async def add(self, monitor: Monitor) -> None:
        self._pending.monitors[monitor.id] = monitor
        self._count(monitor.account_id, 1)

    def _count(self, account_id: UUID, change: int) -> None:
        account = self._pending.accounts.get(account_id) or self._storage.accounts.get(account_id)
        if account is not None:
            self._pending.accounts[account_id] = replace(
                account, monitor_count=account.monitor_count + change
            )

    async def of_account(self, account_id: UUID) -> list[Monitor]:
        return [m for m in self._all() if m.account_id == account_id]

    async def of_accounts(self, account_ids: Collection[UUID]) -> dict[UUID, list[Monitor]]:
        wanted = set(account_ids)
        found: dict[UUID, list[Monitor]] = {}
        for monitor in self._all():
            if monitor.account_id in wanted:
                found.setdefault(monitor.account_id, []).append(monitor)
        return found

    async def remove(self, account_id: UUID, monitor_id: UUID) -> bool:
        if any(m.id == monitor_id for m in await self.of_account(account_id)):
            self._pending.removed_monitors.add(monitor_id)
            self._count(account_id, -1)
            return True
        return False
