"""The monitors `lock_accounts` read with the accounts it locked (migration 0014), kept for the
rest of the unit of work: a movement's read of its accounts' monitors is then served from the
lock's own round trip. Shared by one unit of work's account and monitor repositories."""

from __future__ import annotations

from collections.abc import Collection, Iterable
from datetime import datetime
from typing import Any
from uuid import UUID

from domain.monitor import Monitor, MonitorField, MonitorOp


class LockedMonitors:
    def __init__(self) -> None:
        self._by_account: dict[UUID, list[Monitor]] = {}

    def read_under_lock(self, rows: Iterable[Any]) -> None:
        """Each locked account's monitors (none when the lock found none)."""
        for row in rows:
            self._by_account[row.id] = [_monitor(item) for item in row.monitors or ()]

    def of_accounts(self, account_ids: Collection[UUID]) -> dict[UUID, list[Monitor]] | None:
        """The monitors of these accounts, if the lock read every one of them; else None."""
        if not all(account_id in self._by_account for account_id in account_ids):
            return None
        return {
            account_id: self._by_account[account_id]
            for account_id in account_ids
            if self._by_account[account_id]
        }

    def changed(self, account_id: UUID) -> None:
        """A monitor of this account came or went in this unit of work: read it afresh."""
        self._by_account.pop(account_id, None)


def _monitor(item: dict[str, Any]) -> Monitor:
    return Monitor(
        id=UUID(item["id"]),
        account_id=UUID(item["account_id"]),
        field=MonitorField(item["field"]),
        op=MonitorOp(item["op"]),
        value=int(item["value"]),
        description=item["description"],
        created_at=datetime.fromisoformat(item["created_at"]),
    )
