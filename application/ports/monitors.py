from __future__ import annotations

from collections.abc import Collection
from typing import Protocol
from uuid import UUID

from domain.monitor import Monitor


class MonitorRepository(Protocol):
    """Balance monitors, per account."""

    async def add(self, monitor: Monitor) -> None: ...

    async def of_account(self, account_id: UUID) -> list[Monitor]:
        """Oldest first."""
        ...

    async def of_accounts(self, account_ids: Collection[UUID]) -> dict[UUID, list[Monitor]]:
        """Those of each account that has any (one round trip): what a movement checks."""
        ...

    async def remove(self, account_id: UUID, monitor_id: UUID) -> bool:
        """Whether the account had it."""
        ...
